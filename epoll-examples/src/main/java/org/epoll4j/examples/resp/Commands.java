package org.epoll4j.examples.resp;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs requests against the {@link Keyspace} with Redis's replies and error texts. One per reactor (it holds
 * scratch probes); the caller holds the keyspace's lock.
 */
final class Commands {
    private static final String OVERFLOW = "ERR increment or decrement would overflow";
    private static final String NOT_POSITIVE = "ERR value is out of range, must be positive";
    /** What CONFIG GET reports: enough for redis-benchmark, which asks for save and appendonly. */
    private static final Map<String, String> CONFIG = new LinkedHashMap<>();

    static {
        CONFIG.put("save", "");
        CONFIG.put("appendonly", "no");
        CONFIG.put("databases", "1");
    }

    private final Keyspace ks;
    private final Bytes key = Bytes.probe();
    private final Bytes field = Bytes.probe();
    private final byte[] lowered = new byte[16];
    private long executed;

    Commands(Keyspace ks) {
        this.ks = ks;
    }

    /** Requests run (plain counter: read it after the reactor's thread ended). */
    long executed() {
        return executed;
    }

    /**
     * Runs the request in {@code a} (at least one word) and appends its reply to {@code r}.
     *
     * @return true if the connection closes after the reply (QUIT)
     */
    boolean execute(Args a, Reply r, long now) {
        executed++;
        Command c = Command.lookup(a.data, a.offset(0), a.length(0), lowered, key);
        if (c == null) {
            unknown(a, r);
            return false;
        }
        if (!c.arityOk(a.argc)) {
            wrongArity(r, c.lower);
            return false;
        }
        switch (c) {
            case PING:
                if (a.argc == 1) {
                    r.raw(Reply.PONG);
                } else if (a.argc == 2) {
                    r.bulk(a.data, a.offset(1), a.length(1));
                } else {
                    wrongArity(r, c.lower);
                }
                return false;
            case ECHO:
                r.bulk(a.data, a.offset(1), a.length(1));
                return false;
            case SET:
                set(a, r, now);
                return false;
            case GET: {
                Keyspace.Entry e = ks.get(a.key(key, 1), now);
                if (e == null) {
                    r.raw(Reply.NIL);
                } else if (e.value instanceof byte[]) {
                    r.bulk((byte[]) e.value);
                } else {
                    r.raw(Reply.WRONGTYPE);
                }
                return false;
            }
            case DEL: {
                int n = 0;
                for (int i = 1; i < a.argc; i++) {
                    n += ks.remove(a.key(key, i), now) ? 1 : 0;
                }
                r.integer(n);
                return false;
            }
            case EXISTS: {
                int n = 0;
                for (int i = 1; i < a.argc; i++) {
                    n += ks.get(a.key(key, i), now) != null ? 1 : 0;
                }
                r.integer(n);
                return false;
            }
            case INCR:
                incrBy(a, r, now, 1);
                return false;
            case DECR:
                incrBy(a, r, now, -1);
                return false;
            case INCRBY:
                if (!a.isLong(2)) {
                    r.raw(Reply.NOT_INTEGER);
                } else {
                    incrBy(a, r, now, a.toLong(2));
                }
                return false;
            case MSET:
                if (a.argc % 2 == 0) {
                    wrongArity(r, c.lower);
                    return false;
                }
                for (int i = 1; i < a.argc; i += 2) {
                    ks.put(a.key(key, i), a.copy(i + 1));
                }
                r.raw(Reply.OK);
                return false;
            case MGET:
                r.arrayHeader(a.argc - 1);
                for (int i = 1; i < a.argc; i++) {
                    Keyspace.Entry e = ks.get(a.key(key, i), now);
                    if (e != null && e.value instanceof byte[]) {
                        r.bulk((byte[]) e.value);
                    } else {
                        r.raw(Reply.NIL);
                    }
                }
                return false;
            case EXPIRE:
                expire(a, r, now);
                return false;
            case TTL: {
                Keyspace.Entry e = ks.get(a.key(key, 1), now);
                r.integer(e == null ? -2 : e.expireAt == Keyspace.NO_TTL ? -1
                        : (Math.max(0, e.expireAt - now) + 500) / 1000);
                return false;
            }
            case DBSIZE:
                r.integer(ks.size());
                return false;
            case LPUSH:
            case RPUSH:
                push(a, r, now, c == Command.LPUSH);
                return false;
            case LPOP:
            case RPOP:
                pop(a, r, now, c == Command.LPOP);
                return false;
            case LRANGE:
                lrange(a, r, now);
                return false;
            case LLEN: {
                Object v = value(a, 1, now);
                if (v == null) {
                    r.raw(Reply.ZERO);
                } else if (v instanceof ByteList) {
                    r.integer(((ByteList) v).size());
                } else {
                    r.raw(Reply.WRONGTYPE);
                }
                return false;
            }
            case HSET:
                hset(a, r, now);
                return false;
            case HGET: {
                Object v = value(a, 1, now);
                if (v == null) {
                    r.raw(Reply.NIL);
                } else if (v instanceof HashMap) {
                    @SuppressWarnings("unchecked")
                    byte[] f = ((HashMap<Bytes, byte[]>) v).get(a.key(field, 2));
                    if (f == null) {
                        r.raw(Reply.NIL);
                    } else {
                        r.bulk(f);
                    }
                } else {
                    r.raw(Reply.WRONGTYPE);
                }
                return false;
            }
            case SADD:
                sadd(a, r, now);
                return false;
            case SCARD: {
                Object v = value(a, 1, now);
                if (v == null) {
                    r.raw(Reply.ZERO);
                } else if (v instanceof HashSet) {
                    r.integer(((HashSet<?>) v).size());
                } else {
                    r.raw(Reply.WRONGTYPE);
                }
                return false;
            }
            case FLUSHALL:
                if (a.argc == 1 || (a.argc == 2 && (a.is(1, "sync") || a.is(1, "async")))) {
                    ks.clear();
                    r.raw(Reply.OK);
                } else {
                    r.raw(Reply.SYNTAX);
                }
                return false;
            case CONFIG:
                config(a, r);
                return false;
            case COMMAND:
                command(a, r);
                return false;
            case QUIT:
                r.raw(Reply.OK);
                return true;
            default:
                throw new AssertionError(c);
        }
    }

    private Object value(Args a, int i, long now) {
        Keyspace.Entry e = ks.get(a.key(key, i), now);
        return e == null ? null : e.value;
    }

    private void set(Args a, Reply r, long now) {
        boolean nx = false;
        boolean xx = false;
        boolean get = false;
        boolean keepTtl = false;
        int expireArg = -1;
        boolean seconds = false;
        for (int i = 3; i < a.argc; i++) {
            boolean next = i + 1 < a.argc;
            if (a.is(i, "nx") && !xx) {
                nx = true;
            } else if (a.is(i, "xx") && !nx) {
                xx = true;
            } else if (a.is(i, "get")) {
                get = true;
            } else if (a.is(i, "keepttl") && expireArg < 0) {
                keepTtl = true;
            } else if ((a.is(i, "ex") || a.is(i, "px")) && !keepTtl && expireArg < 0 && next) {
                seconds = a.is(i, "ex");
                expireArg = ++i;
            } else {
                r.raw(Reply.SYNTAX);
                return;
            }
        }
        long ttl = 0;
        if (expireArg > 0) {
            if (!a.isLong(expireArg)) {
                r.raw(Reply.NOT_INTEGER);
                return;
            }
            ttl = a.toLong(expireArg);
            if (ttl <= 0 || (seconds && ttl > Long.MAX_VALUE / 1000)) {
                invalidExpire(r, "set");
                return;
            }
            ttl = seconds ? ttl * 1000 : ttl;
            if (ttl > Long.MAX_VALUE - System.currentTimeMillis()) { // Redis's overflow check on absolute time
                invalidExpire(r, "set");
                return;
            }
        }
        Keyspace.Entry old = ks.get(a.key(key, 1), now);
        if (get && old != null && !(old.value instanceof byte[])) {
            r.raw(Reply.WRONGTYPE);
            return;
        }
        boolean apply = !(nx && old != null) && !(xx && old == null);
        if (get) {
            if (old == null) {
                r.raw(Reply.NIL);
            } else {
                r.bulk((byte[]) old.value);
            }
        } else {
            r.raw(apply ? Reply.OK : Reply.NIL);
        }
        if (!apply) {
            return;
        }
        long keptDeadline = keepTtl && old != null ? old.expireAt : Keyspace.NO_TTL;
        Keyspace.Entry e = ks.put(key, a.copy(2));
        if (expireArg > 0) {
            ks.expireAt(key, e, now + ttl);
        } else if (keptDeadline != Keyspace.NO_TTL) {
            e.expireAt = keptDeadline; // same entry object, same deadline: its heap node is still current
        }
    }

    private void incrBy(Args a, Reply r, long now, long by) {
        Keyspace.Entry e = ks.get(a.key(key, 1), now);
        long current = 0;
        if (e != null) {
            if (!(e.value instanceof byte[])) {
                r.raw(Reply.WRONGTYPE);
                return;
            }
            byte[] v = (byte[]) e.value;
            if (!Numbers.isLong(v, 0, v.length)) {
                r.raw(Reply.NOT_INTEGER);
                return;
            }
            current = Numbers.parseLong(v, 0, v.length);
        }
        if ((by < 0 && current < 0 && by < Long.MIN_VALUE - current)
                || (by > 0 && current > 0 && by > Long.MAX_VALUE - current)) {
            r.error(OVERFLOW);
            return;
        }
        long n = current + by;
        if (e != null) {
            e.value = Numbers.toBytes(n); // keeps the time to live, as Redis does
        } else {
            ks.put(key, Numbers.toBytes(n));
        }
        r.integer(n);
    }

    private void expire(Args a, Reply r, long now) {
        boolean nx = false;
        boolean xx = false;
        boolean gt = false;
        boolean lt = false;
        for (int i = 3; i < a.argc; i++) {
            if (a.is(i, "nx")) {
                nx = true;
            } else if (a.is(i, "xx")) {
                xx = true;
            } else if (a.is(i, "gt")) {
                gt = true;
            } else if (a.is(i, "lt")) {
                lt = true;
            } else {
                r.error("ERR Unsupported option " + a.text(i));
                return;
            }
        }
        if (nx && (xx || gt || lt)) {
            r.error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt) {
            r.error("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!a.isLong(2)) {
            r.raw(Reply.NOT_INTEGER);
            return;
        }
        long sec = a.toLong(2);
        if (sec > Long.MAX_VALUE / 1000 || sec < Long.MIN_VALUE / 1000
                || sec * 1000 > Long.MAX_VALUE - System.currentTimeMillis()) {
            invalidExpire(r, "expire");
            return;
        }
        long ms = sec * 1000;
        Keyspace.Entry e = ks.get(a.key(key, 1), now);
        if (e == null) {
            r.raw(Reply.ZERO);
            return;
        }
        long at = now + ms;
        long cur = e.expireAt;
        boolean none = cur == Keyspace.NO_TTL;
        if ((nx && !none) || (xx && none) || (gt && (none || at <= cur)) || (lt && !none && at >= cur)) {
            r.raw(Reply.ZERO);
            return;
        }
        if (ms <= 0) {
            ks.remove(key, now); // a deadline in the past deletes the key
        } else {
            ks.expireAt(key, e, at);
        }
        r.raw(Reply.ONE);
    }

    private void push(Args a, Reply r, long now, boolean head) {
        Keyspace.Entry e = ks.get(a.key(key, 1), now);
        ByteList list;
        if (e == null) {
            list = new ByteList();
            ks.put(key, list);
        } else if (e.value instanceof ByteList) {
            list = (ByteList) e.value;
        } else {
            r.raw(Reply.WRONGTYPE);
            return;
        }
        for (int i = 2; i < a.argc; i++) {
            if (head) {
                list.addFirst(a.copy(i));
            } else {
                list.addLast(a.copy(i));
            }
        }
        r.integer(list.size());
    }

    private void pop(Args a, Reply r, long now, boolean head) {
        if (a.argc > 3) {
            wrongArity(r, head ? "lpop" : "rpop");
            return;
        }
        boolean counted = a.argc == 3;
        long count = 1;
        if (counted) {
            if (!a.isLong(2) || a.toLong(2) < 0) {
                r.error(NOT_POSITIVE);
                return;
            }
            count = a.toLong(2);
        }
        Keyspace.Entry e = ks.get(a.key(key, 1), now);
        if (e == null) {
            r.raw(counted ? Reply.NIL_ARRAY : Reply.NIL);
            return;
        }
        if (!(e.value instanceof ByteList)) {
            r.raw(Reply.WRONGTYPE);
            return;
        }
        ByteList list = (ByteList) e.value;
        if (!counted) {
            r.bulk(head ? list.pollFirst() : list.pollLast());
        } else {
            int n = (int) Math.min(count, list.size());
            r.arrayHeader(n);
            for (int i = 0; i < n; i++) {
                r.bulk(head ? list.pollFirst() : list.pollLast());
            }
        }
        if (list.size() == 0) {
            ks.remove(key, now); // Redis deletes a list once it is empty
        }
    }

    private void lrange(Args a, Reply r, long now) {
        if (!a.isLong(2) || !a.isLong(3)) {
            r.raw(Reply.NOT_INTEGER);
            return;
        }
        long start = a.toLong(2);
        long stop = a.toLong(3);
        Object v = value(a, 1, now);
        if (v == null) {
            r.raw(Reply.EMPTY_ARRAY);
            return;
        }
        if (!(v instanceof ByteList)) {
            r.raw(Reply.WRONGTYPE);
            return;
        }
        ByteList list = (ByteList) v;
        long n = list.size();
        if (start < 0) {
            start = Math.max(0, n + start);
        }
        if (stop < 0) {
            stop = n + stop;
        }
        if (start > stop || start >= n) {
            r.raw(Reply.EMPTY_ARRAY);
            return;
        }
        stop = Math.min(stop, n - 1);
        r.arrayHeader(stop - start + 1);
        for (long i = start; i <= stop; i++) {
            r.bulk(list.get((int) i));
        }
    }

    @SuppressWarnings("unchecked")
    private void hset(Args a, Reply r, long now) {
        if (a.argc % 2 == 1) {
            wrongArity(r, "hset");
            return;
        }
        Keyspace.Entry e = ks.get(a.key(key, 1), now);
        HashMap<Bytes, byte[]> hash;
        if (e == null) {
            hash = new HashMap<>();
            ks.put(key, hash);
        } else if (e.value instanceof HashMap) {
            hash = (HashMap<Bytes, byte[]>) e.value;
        } else {
            r.raw(Reply.WRONGTYPE);
            return;
        }
        int added = 0;
        for (int i = 2; i < a.argc; i += 2) {
            if (hash.put(Bytes.wrap(a.copy(i)), a.copy(i + 1)) == null) {
                added++;
            }
        }
        r.integer(added);
    }

    @SuppressWarnings("unchecked")
    private void sadd(Args a, Reply r, long now) {
        Keyspace.Entry e = ks.get(a.key(key, 1), now);
        HashSet<Bytes> set;
        if (e == null) {
            set = new HashSet<>();
            ks.put(key, set);
        } else if (e.value instanceof HashSet) {
            set = (HashSet<Bytes>) e.value;
        } else {
            r.raw(Reply.WRONGTYPE);
            return;
        }
        int added = 0;
        for (int i = 2; i < a.argc; i++) {
            if (!set.contains(a.key(field, i))) {
                set.add(field.copy());
                added++;
            }
        }
        r.integer(added);
    }

    private void config(Args a, Reply r) {
        if (!a.is(1, "get")) {
            r.error("ERR unknown subcommand '" + cString(a, 1, 128) + "'. Try CONFIG HELP.");
            return;
        }
        if (a.argc < 3) {
            wrongArity(r, "config|get");
            return;
        }
        Map<String, String> found = new LinkedHashMap<>();
        for (int i = 2; i < a.argc; i++) {
            String pattern = a.text(i);
            for (Map.Entry<String, String> p : CONFIG.entrySet()) {
                if (Glob.matches(pattern, p.getKey())) {
                    found.put(p.getKey(), p.getValue());
                }
            }
        }
        r.arrayHeader(found.size() * 2L);
        for (Map.Entry<String, String> p : found.entrySet()) {
            r.bulk(p.getKey());
            r.bulk(p.getValue());
        }
    }

    private void command(Args a, Reply r) {
        if (a.argc == 1) {
            r.arrayHeader(Command.values().length);
            for (Command c : Command.values()) {
                info(r, c);
            }
        } else if (a.is(1, "count")) {
            if (a.argc != 2) {
                wrongArity(r, "command|count");
            } else {
                r.integer(Command.values().length);
            }
        } else if (a.is(1, "list")) {
            r.arrayHeader(Command.values().length);
            for (Command c : Command.values()) {
                r.bulk(c.nameBytes);
            }
        } else if (a.is(1, "info")) {
            r.arrayHeader(a.argc - 2);
            for (int i = 2; i < a.argc; i++) {
                Command c = Command.lookup(a.data, a.offset(i), a.length(i), lowered, field);
                if (c == null) {
                    r.raw(Reply.NIL);
                } else {
                    info(r, c);
                }
            }
        } else if (a.is(1, "docs")) {
            r.raw(Reply.EMPTY_ARRAY); // minimal: no documentation (redis-cli then offers no hints)
        } else {
            r.error("ERR unknown subcommand '" + cString(a, 1, 128) + "'. Try COMMAND HELP.");
        }
    }

    /** One COMMAND entry in Redis 7's ten-field shape; the last four (ACL, tips, key specs, subcommands) empty. */
    private static void info(Reply r, Command c) {
        r.arrayHeader(10);
        r.bulk(c.nameBytes);
        r.integer(c.arity);
        r.arrayHeader(c.flags.length);
        for (String f : c.flags) {
            r.simple(f);
        }
        r.integer(c.firstKey());
        r.integer(c.lastKey());
        r.integer(c.keyStep());
        for (int i = 0; i < 4; i++) {
            r.raw(Reply.EMPTY_ARRAY);
        }
    }

    private static void unknown(Args a, Reply r) {
        // Redis's text: the name and the first arguments, each cut at 128 chars (and, C strings, at a NUL byte)
        StringBuilder args = new StringBuilder();
        for (int i = 1; i < a.argc && args.length() < 128; i++) {
            String arg = cString(a, i, 128 - args.length());
            args.append('\'').append(arg).append("' ");
        }
        r.error("ERR unknown command '" + cString(a, 0, 128) + "', with args beginning with: " + args);
    }

    private static String cString(Args a, int i, int max) {
        int o = a.offset(i);
        int n = Math.min(a.length(i), max);
        StringBuilder b = new StringBuilder(n);
        for (int k = 0; k < n && a.data[o + k] != 0; k++) {
            b.append((char) (a.data[o + k] & 0xff));
        }
        return b.toString();
    }

    private static void wrongArity(Reply r, String name) {
        r.error("ERR wrong number of arguments for '" + name + "' command");
    }

    private static void invalidExpire(Reply r, String command) {
        r.error("ERR invalid expire time in '" + command + "' command");
    }
}
