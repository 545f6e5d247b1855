package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The keys and their values, shared by every connection of every reactor. Callers hold {@link #lock} (one
 * acquisition per batch of pipelined requests). Values are {@code byte[]} (strings), {@link ByteList} (lists),
 * {@code HashMap<Bytes, byte[]>} (hashes) or {@code HashSet<Bytes>} (sets).
 *
 * <p>Expiry is lazy (a lookup of an expired key deletes it) plus a bounded sweep ({@link #sweep}) from a timer. Keys
 * with a time to live also sit in a min-heap by deadline; a heap node is stale once its key was deleted, replaced or
 * given another deadline, and is skipped. Times are milliseconds of a monotonic clock, so TTLs ignore wall-clock
 * jumps.
 */
final class Keyspace {
    /** {@link Entry#expireAt} of a key without a time to live. */
    static final long NO_TTL = 0;

    private static final long ORIGIN = System.nanoTime();

    /** A key's value and deadline; replaced in place when a string key is overwritten. */
    static final class Entry {
        Object value;
        long expireAt = NO_TTL;

        Entry(Object value) {
            this.value = value;
        }
    }

    private static final class Expiry {
        final long at;
        final Bytes key;
        final Entry entry;

        Expiry(long at, Bytes key, Entry entry) {
            this.at = at;
            this.key = key;
            this.entry = entry;
        }

        boolean isCurrent(HashMap<Bytes, Entry> map) {
            return entry.expireAt == at && map.get(key) == entry;
        }
    }

    /** Held while reading or changing the keyspace. */
    final ReentrantLock lock = new ReentrantLock();

    private final HashMap<Bytes, Entry> map = new HashMap<>();
    private PriorityQueue<Expiry> deadlines = new PriorityQueue<>((x, y) -> Long.compare(x.at, y.at));
    private long expired;

    /** Milliseconds on a monotonic clock, always at least 1 (0 is {@link #NO_TTL}). */
    static long now() {
        return (System.nanoTime() - ORIGIN) / 1_000_000 + 1;
    }

    /** The live entry of {@code key}, or null; deletes it if it has expired. */
    Entry get(Bytes key, long now) {
        Entry e = map.get(key);
        if (e != null && e.expireAt != NO_TTL && e.expireAt <= now) {
            map.remove(key);
            expired++;
            return null;
        }
        return e;
    }

    /** Sets {@code key} (a probe is copied) to {@code value} without a time to live; returns its entry. */
    Entry put(Bytes key, Object value) {
        Entry e = map.get(key);
        if (e == null) {
            e = new Entry(value);
            map.put(key.copy(), e);
        } else {
            e.value = value;
            e.expireAt = NO_TTL;
        }
        return e;
    }

    /** Deletes {@code key}; true if it existed and had not expired. */
    boolean remove(Bytes key, long now) {
        return get(key, now) != null && map.remove(key) != null;
    }

    /** Gives {@code e}, the entry of {@code key}, the deadline {@code at} (ms, {@link #now()}'s clock). */
    void expireAt(Bytes key, Entry e, long at) {
        e.expireAt = at;
        deadlines.add(new Expiry(at, key.copy(), e));
        if (deadlines.size() > 2 * map.size() + 1024) {
            compact();
        }
    }

    /** Drops stale heap nodes: amortised over the at least map.size() + 1024 additions since the last one. */
    private void compact() {
        List<Expiry> live = new ArrayList<>();
        for (Expiry x : deadlines) {
            if (x.isCurrent(map)) {
                live.add(x);
            }
        }
        PriorityQueue<Expiry> q = new PriorityQueue<>(Math.max(16, live.size() * 2), deadlines.comparator());
        q.addAll(live);
        deadlines = q;
    }

    /**
     * Deletes up to {@code budget} expired keys, earliest deadline first.
     *
     * @return true if the budget ran out before every expired key was deleted
     */
    boolean sweep(long now, int budget) {
        Expiry x;
        while ((x = deadlines.peek()) != null && x.at <= now) {
            if (budget-- == 0) {
                return true;
            }
            deadlines.poll();
            if (x.isCurrent(map)) {
                map.remove(x.key);
                expired++;
            }
        }
        return false;
    }

    /** Keys, counting expired ones not yet deleted (as Redis's DBSIZE does). */
    int size() {
        return map.size();
    }

    /** Deletes every key. */
    void clear() {
        map.clear();
        deadlines = new PriorityQueue<>(deadlines.comparator());
    }

    /** Keys deleted because they expired (lazily or by the sweep). */
    long expiredCount() {
        return expired;
    }

    /** Nodes in the deadline heap (tests: the sweep bounds it). */
    int deadlineCount() {
        return deadlines.size();
    }
}
