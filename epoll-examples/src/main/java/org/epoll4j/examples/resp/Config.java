package org.epoll4j.examples.resp;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The settings CONFIG GET shows and CONFIG SET changes, with Redis's names and error texts. Settings the server
 * accepts without acting on them (encodings, lazy freeing, ...) are kept so that clients and Redis's own tests that
 * set them can go on. Read and changed under the {@link Store}'s lock.
 */
final class Config {
    /** Eviction policies, named as Redis names them. */
    enum Policy {
        NOEVICTION(false), ALLKEYS_LRU(false), ALLKEYS_RANDOM(false), VOLATILE_LRU(true), VOLATILE_RANDOM(true),
        VOLATILE_TTL(true);

        final boolean volatileOnly;
        final String text;

        Policy(boolean volatileOnly) {
            this.volatileOnly = volatileOnly;
            this.text = name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Policy parse(String s) {
            for (Policy p : values()) {
                if (p.text.equalsIgnoreCase(s)) {
                    return p;
                }
            }
            return null;
        }
    }

    final int databases;
    String requirepass = "";
    long maxmemory;
    Policy policy = Policy.NOEVICTION;
    int maxmemorySamples = 5;
    long pubsubHard = 32L << 20;
    long pubsubSoft = 8L << 20;
    long pubsubSoftSeconds = 60;
    private final Map<String, String> other = new LinkedHashMap<>();
    private static final String[] IMMUTABLE = {"databases", "port", "bind", "daemonize", "maxclients"};

    Config(int databases) {
        this.databases = databases;
        String[][] accepted = {
            {"save", ""}, {"appendonly", "no"}, {"port", "6380"}, {"bind", "127.0.0.1"}, {"daemonize", "no"},
            {"maxclients", "10000"}, {"timeout", "0"}, {"hz", "10"}, {"lazyfree-lazy-user-del", "no"},
            {"lazyfree-lazy-user-flush", "no"}, {"lazyfree-lazy-expire", "no"}, {"lazyfree-lazy-eviction", "no"},
            {"set-max-intset-entries", "512"}, {"set-max-listpack-entries", "128"},
            {"set-max-listpack-value", "64"}, {"hash-max-listpack-entries", "128"},
            {"hash-max-listpack-value", "64"}, {"hash-max-ziplist-entries", "128"},
            {"hash-max-ziplist-value", "64"}, {"list-max-listpack-size", "-2"}, {"list-max-ziplist-size", "-2"},
            {"zset-max-listpack-entries", "128"}, {"zset-max-listpack-value", "64"},
            {"zset-max-ziplist-entries", "128"}, {"zset-max-ziplist-value", "64"}, {"list-compress-depth", "0"},
            {"stream-node-max-entries", "100"}, {"stream-node-max-bytes", "4096"}, {"repl-diskless-load", "disabled"}, {"latency-tracking", "yes"},
            {"notify-keyspace-events", ""}, {"active-expire-effort", "1"}, {"appendfsync", "everysec"},
            {"slowlog-log-slower-than", "10000"}, {"lua-time-limit", "5000"}, {"busy-reply-threshold", "5000"},
            {"proto-max-bulk-len", "536870912"}, {"client-query-buffer-limit", "1073741824"},
            {"enable-debug-command", "no"}, {"activerehashing", "yes"}, {"maxmemory-clients", "0"},
            {"lfu-log-factor", "10"}, {"lfu-decay-time", "1"}, {"replica-read-only", "yes"},
        };
        for (String[] kv : accepted) {
            other.put(kv[0], kv[1]);
        }
    }

    /** Every setting's name and current value, in a stable order. */
    Map<String, String> all() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("databases", String.valueOf(databases));
        m.put("requirepass", requirepass);
        m.put("maxmemory", String.valueOf(maxmemory));
        m.put("maxmemory-policy", policy.text);
        m.put("maxmemory-samples", String.valueOf(maxmemorySamples));
        m.put("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub "
                + pubsubHard + " " + pubsubSoft + " " + pubsubSoftSeconds);
        m.putAll(other);
        return m;
    }

    /**
     * Sets {@code name} to {@code value}.
     *
     * @return null when done, else Redis's error text
     */
    String set(String name, String value) {
        String n = name.toLowerCase(Locale.ROOT);
        String failed = "ERR CONFIG SET failed (possibly related to argument '" + n + "') - ";
        for (String imm : IMMUTABLE) {
            if (imm.equals(n)) {
                return failed + "can't set immutable config";
            }
        }
        switch (n) {
            case "requirepass":
                requirepass = value;
                return null;
            case "maxmemory": {
                long v = memory(value);
                if (v < 0) {
                    return failed + "argument must be a memory value";
                }
                maxmemory = v;
                return null;
            }
            case "maxmemory-policy": {
                Policy p = Policy.parse(value);
                if (p == null) {
                    StringBuilder all = new StringBuilder();
                    for (Policy q : Policy.values()) {
                        all.append(all.length() == 0 ? "" : ", ").append(q.text);
                    }
                    return failed + "argument(s) must be one of the following: " + all;
                }
                policy = p;
                return null;
            }
            case "maxmemory-samples": {
                try {
                    int v = Integer.parseInt(value);
                    if (v < 1 || v > 64) {
                        return failed + "argument must be between 1 and 64 inclusive";
                    }
                    maxmemorySamples = v;
                    return null;
                } catch (NumberFormatException e) {
                    return failed + "argument couldn't be parsed into an integer";
                }
            }
            case "client-output-buffer-limit":
                return outputLimits(value, failed);
            default:
                if (!other.containsKey(n)) {
                    return "ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'";
                }
                other.put(n, value);
                return null;
        }
    }

    /** Reads Redis's {@code "class hard soft seconds ..."}: only the pubsub class has an effect. */
    private String outputLimits(String value, String failed) {
        String[] w = value.trim().split("\\s+");
        if (w.length % 4 != 0) {
            return failed + "Wrong number of arguments in buffer limit configuration.";
        }
        for (int i = 0; i < w.length; i += 4) {
            String cls = w[i].toLowerCase(Locale.ROOT);
            long hard = memory(w[i + 1]);
            long soft = memory(w[i + 2]);
            long secs;
            try {
                secs = Long.parseLong(w[i + 3]);
            } catch (NumberFormatException e) {
                secs = -1;
            }
            if (!cls.equals("normal") && !cls.equals("slave") && !cls.equals("replica") && !cls.equals("pubsub")
                    || hard < 0 || soft < 0 || secs < 0) {
                return failed + "Invalid client class specified in buffer limit configuration.";
            }
            if (cls.equals("pubsub")) {
                pubsubHard = hard;
                pubsubSoft = soft;
                pubsubSoftSeconds = secs;
            }
        }
        return null;
    }

    /** A memory amount as Redis's memtoull reads it (b, k, kb, m, mb, g, gb; k = 1000, kb = 1024), or -1. */
    static long memory(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long mul = 1;
        String[][] units = {{"gb", "1073741824"}, {"mb", "1048576"}, {"kb", "1024"}, {"g", "1000000000"},
            {"m", "1000000"}, {"k", "1000"}, {"b", "1"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                mul = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length());
                break;
            }
        }
        if (t.isEmpty() || !t.chars().allMatch(Character::isDigit) || t.length() > 18) {
            return -1;
        }
        long v = Long.parseLong(t);
        return v > Long.MAX_VALUE / mul ? -1 : v * mul;
    }
}
