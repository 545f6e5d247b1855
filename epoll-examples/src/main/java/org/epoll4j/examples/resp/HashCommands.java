package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Hash commands: HSET, HGET, HGETALL, HDEL, HINCRBY(FLOAT), HKEYS, HVALS, HEXISTS, HLEN, HMGET, HRANDFIELD ... */
final class HashCommands {
    private HashCommands() {
    }

    static int run(Command c, Call x) {
        Args a = x.a;
        Reply r = x.r;
        if (c == Command.HSET || c == Command.HMSET || c == Command.HSETNX || c == Command.HINCRBY
                || c == Command.HINCRBYFLOAT) {
            write(c, x);
            return Call.CONTINUE;
        }
        Keyspace.Entry e = x.entry(1);
        if (e != null && !(e.value instanceof ByteHash)) {
            x.wrongType();
            return Call.CONTINUE;
        }
        ByteHash h = e == null ? null : (ByteHash) e.value;
        switch (c) {
            case HGET: {
                byte[] v = h == null ? null : h.get(a.key(x.field, 2));
                if (v == null) {
                    r.nil();
                } else {
                    r.bulk(v);
                }
                break;
            }
            case HMGET:
                r.arrayHeader(a.argc - 2);
                for (int i = 2; i < a.argc; i++) {
                    byte[] v = h == null ? null : h.get(a.key(x.field, i));
                    if (v == null) {
                        r.nil();
                    } else {
                        r.bulk(v);
                    }
                }
                break;
            case HGETALL:
                r.mapHeader(h == null ? 0 : h.size());
                if (h != null) {
                    for (Map.Entry<Bytes, byte[]> f : h.map.entrySet()) {
                        r.bulk(f.getKey().toArray());
                        r.bulk(f.getValue());
                    }
                }
                break;
            case HKEYS:
            case HVALS:
                r.arrayHeader(h == null ? 0 : h.size());
                if (h != null) {
                    for (Map.Entry<Bytes, byte[]> f : h.map.entrySet()) {
                        r.bulk(c == Command.HKEYS ? f.getKey().toArray() : f.getValue());
                    }
                }
                break;
            case HDEL: {
                int n = 0;
                for (int i = 2; h != null && i < a.argc; i++) {
                    n += h.remove(a.key(x.field, i)) ? 1 : 0;
                }
                if (h != null && h.size() == 0) {
                    x.db.delete(e);
                }
                r.integer(n);
                break;
            }
            case HLEN:
                r.integer(h == null ? 0 : h.size());
                break;
            case HEXISTS:
                r.raw(h != null && h.get(a.key(x.field, 2)) != null ? Reply.ONE : Reply.ZERO);
                break;
            case HSTRLEN: {
                byte[] v = h == null ? null : h.get(a.key(x.field, 2));
                r.integer(v == null ? 0 : v.length);
                break;
            }
            case HRANDFIELD:
                randField(x, h);
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    private static void write(Command c, Call x) {
        Args a = x.a;
        if ((c == Command.HSET || c == Command.HMSET) && a.argc % 2 == 1) {
            x.wrongArity(c.lower);
            return;
        }
        Keyspace.Entry e = x.entry(1);
        if (e != null && !(e.value instanceof ByteHash)) {
            x.wrongType();
            return;
        }
        ByteHash h = e == null ? new ByteHash() : (ByteHash) e.value;
        boolean created = e == null;
        switch (c) {
            case HSET:
            case HMSET: {
                int added = 0;
                for (int i = 2; i < a.argc; i += 2) {
                    added += h.put(a.key(x.field, i), a.copy(i + 1)) ? 1 : 0;
                }
                if (c == Command.HSET) {
                    x.r.integer(added);
                } else {
                    x.ok();
                }
                break;
            }
            case HSETNX:
                if (h.get(a.key(x.field, 2)) != null) {
                    x.r.raw(Reply.ZERO);
                } else {
                    h.put(x.field, a.copy(3));
                    x.r.raw(Reply.ONE);
                }
                break;
            case HINCRBY: {
                if (!x.longArg(3)) {
                    return;
                }
                long by = a.toLong(3);
                byte[] v = h.get(a.key(x.field, 2));
                long cur = 0;
                if (v != null) {
                    if (!Numbers.isLong(v, 0, v.length)) {
                        x.error("ERR hash value is not an integer");
                        return;
                    }
                    cur = Numbers.parseLong(v, 0, v.length);
                }
                if ((by < 0 && cur < 0 && by < Long.MIN_VALUE - cur) || (by > 0 && cur > 0 && by > Long.MAX_VALUE - cur)) {
                    x.error("ERR increment or decrement would overflow");
                    return;
                }
                h.put(x.field, Numbers.toBytes(cur + by));
                x.r.integer(cur + by);
                break;
            }
            case HINCRBYFLOAT: {
                double by = Numbers.parseDouble(a.text(3));
                if (Double.isNaN(by) && !a.text(3).equalsIgnoreCase("nan")) {
                    x.error("ERR value is not a valid float");
                    return;
                }
                if (Double.isNaN(by) || Double.isInfinite(by)) {
                    x.error("ERR value is NaN or Infinity");
                    return;
                }
                byte[] v = h.get(a.key(x.field, 2));
                double cur = 0;
                if (v != null) {
                    cur = Numbers.parseDouble(new String(v, java.nio.charset.StandardCharsets.ISO_8859_1));
                    if (Double.isNaN(cur) || Double.isInfinite(cur)) {
                        x.error("ERR hash value is not a float");
                        return;
                    }
                }
                double n = cur + by;
                if (Double.isNaN(n) || Double.isInfinite(n)) {
                    x.error("ERR increment would produce NaN or Infinity");
                    return;
                }
                byte[] out = Reply.ascii(Numbers.formatDouble(n));
                h.put(x.field, out);
                x.r.bulk(out);
                break;
            }
            default:
                throw new AssertionError(c);
        }
        if (created && h.size() > 0) {
            x.db.put(a.key(x.key, 1), h);
        }
    }

    private static void randField(Call x, ByteHash h) {
        Args a = x.a;
        if (a.argc == 2) {
            if (h == null) {
                x.r.nil();
            } else {
                x.r.bulk(nth(h, ThreadLocalRandom.current().nextInt(h.size())).getKey().toArray());
            }
            return;
        }
        boolean withValues = a.argc == 4 && a.is(3, "withvalues");
        if (a.argc > 4 || (a.argc == 4 && !withValues)) {
            x.syntax();
            return;
        }
        if (!x.longArg(2)) {
            return;
        }
        long count = a.toLong(2);
        if (count < -Long.MAX_VALUE / 2 || count > Long.MAX_VALUE / 2) {
            x.error("ERR value is out of range");
            return;
        }
        List<Map.Entry<Bytes, byte[]>> picked = new ArrayList<>();
        if (h != null && count != 0) {
            List<Map.Entry<Bytes, byte[]>> all = new ArrayList<>(h.map.entrySet());
            if (count < 0) {
                for (long i = 0; i < -count; i++) {
                    picked.add(all.get(ThreadLocalRandom.current().nextInt(all.size())));
                }
            } else {
                java.util.Collections.shuffle(all);
                picked = all.subList(0, (int) Math.min(count, all.size()));
            }
        }
        if (withValues && x.r.resp3) {
            x.r.arrayHeader(picked.size());
            for (Map.Entry<Bytes, byte[]> f : picked) {
                x.r.arrayHeader(2);
                x.r.bulk(f.getKey().toArray());
                x.r.bulk(f.getValue());
            }
            return;
        }
        x.r.arrayHeader(withValues ? 2L * picked.size() : picked.size());
        for (Map.Entry<Bytes, byte[]> f : picked) {
            x.r.bulk(f.getKey().toArray());
            if (withValues) {
                x.r.bulk(f.getValue());
            }
        }
    }

    private static Map.Entry<Bytes, byte[]> nth(ByteHash h, int n) {
        for (Map.Entry<Bytes, byte[]> f : h.map.entrySet()) {
            if (n-- == 0) {
                return f;
            }
        }
        throw new IllegalStateException("hash shorter than its size");
    }
}
