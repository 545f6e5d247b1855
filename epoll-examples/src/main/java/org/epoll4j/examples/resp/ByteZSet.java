package org.epoll4j.examples.resp;

import java.util.HashMap;
import java.util.TreeSet;

/** A Redis sorted set: members by score (ties by member bytes) in a tree, and each member's score in a hash map. */
final class ByteZSet {
    /** One member and its score. */
    static final class Item implements Comparable<Item> {
        final double score;
        final Bytes member;

        Item(double score, Bytes member) {
            this.score = score;
            this.member = member;
        }

        @Override
        public int compareTo(Item o) {
            int c = Double.compare(score, o.score);
            return c != 0 ? c : member.compareTo(o.member);
        }
    }

    final TreeSet<Item> byScore = new TreeSet<>();
    final HashMap<Bytes, Item> byMember = new HashMap<>();
    private long bytes;

    int size() {
        return byMember.size();
    }

    long bytes() {
        return bytes;
    }

    /** The score of {@code m}, or null. */
    Double score(Bytes m) {
        Item i = byMember.get(m);
        return i == null ? null : i.score;
    }

    /** Sets the score of {@code m} (a probe is copied when new); true if it is new. */
    boolean put(Bytes m, double score) {
        Item old = byMember.get(m);
        if (old != null) {
            if (Double.compare(old.score, score) != 0) {
                byScore.remove(old);
                Item i = new Item(score, old.member);
                byScore.add(i);
                byMember.put(old.member, i);
            }
            return false;
        }
        Item i = new Item(score, m.copy());
        byScore.add(i);
        byMember.put(i.member, i);
        bytes += i.member.length() + 8;
        return true;
    }

    boolean remove(Bytes m) {
        Item i = byMember.remove(m);
        if (i == null) {
            return false;
        }
        byScore.remove(i);
        bytes -= i.member.length() + 8;
        return true;
    }

    /** Removes and returns the lowest (or highest) member. */
    Item pop(boolean min) {
        Item i = min ? byScore.pollFirst() : byScore.pollLast();
        byMember.remove(i.member);
        bytes -= i.member.length() + 8;
        return i;
    }
}
