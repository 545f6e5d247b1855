package org.epoll4j.examples.resp;

import java.util.Map;

/** Helpers over values of any type: deep copies (COPY) and the encoding name OBJECT ENCODING reports. */
final class Values {
    private Values() {
    }

    static Object copy(Object v) {
        if (v instanceof byte[]) {
            return ((byte[]) v).clone();
        }
        if (v instanceof ByteList) {
            ByteList l = (ByteList) v;
            ByteList c = new ByteList();
            for (int i = 0; i < l.size(); i++) {
                c.addLast(l.get(i));
            }
            return c;
        }
        if (v instanceof ByteSet) {
            ByteSet s = (ByteSet) v;
            ByteSet c = new ByteSet();
            for (int i = 0; i < s.size(); i++) {
                c.add(s.at(i));
            }
            return c;
        }
        if (v instanceof ByteZSet) {
            ByteZSet z = (ByteZSet) v;
            ByteZSet c = new ByteZSet();
            for (ByteZSet.Item i : z.byScore) {
                c.put(i.member, i.score);
            }
            return c;
        }
        ByteHash h = (ByteHash) v;
        ByteHash c = new ByteHash();
        for (Map.Entry<Bytes, byte[]> e : h.map.entrySet()) {
            c.put(e.getKey(), e.getValue());
        }
        return c;
    }

    /** Redis 7.0's encoding names, from the size thresholds of the config (this server has one layout per type). */
    static String encoding(Object v, Config config) {
        if (v instanceof byte[]) {
            byte[] b = (byte[]) v;
            if (b.length <= 20 && Numbers.isLong(b, 0, b.length)) {
                return "int";
            }
            return b.length <= 44 ? "embstr" : "raw";
        }
        if (v instanceof ByteList) {
            return "quicklist";
        }
        if (v instanceof ByteSet) {
            ByteSet s = (ByteSet) v;
            long max = Long.parseLong(config.all().getOrDefault("set-max-intset-entries", "512"));
            if (s.size() <= max) {
                boolean ints = true;
                for (int i = 0; i < s.size() && ints; i++) {
                    byte[] m = s.at(i).toArray();
                    ints = Numbers.isLong(m, 0, m.length);
                }
                if (ints) {
                    return "intset";
                }
            }
            return "hashtable";
        }
        if (v instanceof ByteZSet) {
            long max = Math.min(Long.parseLong(config.all().getOrDefault("zset-max-listpack-entries", "128")),
                    Long.parseLong(config.all().getOrDefault("zset-max-ziplist-entries", "128")));
            return ((ByteZSet) v).size() <= max ? "listpack" : "skiplist";
        }
        ByteHash h = (ByteHash) v;
        long entries = Long.parseLong(config.all().getOrDefault("hash-max-listpack-entries", "128"));
        long value = Long.parseLong(config.all().getOrDefault("hash-max-listpack-value", "64"));
        if (h.size() > entries) {
            return "hashtable";
        }
        for (Map.Entry<Bytes, byte[]> e : h.map.entrySet()) {
            if (e.getKey().length() > value || e.getValue().length > value) {
                return "hashtable";
            }
        }
        return "listpack";
    }
}
