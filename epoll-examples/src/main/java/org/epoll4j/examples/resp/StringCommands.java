package org.epoll4j.examples.resp;

import java.util.Arrays;

/** String and counter commands: SET and its variants, GET and its variants, INCR/DECR families, ranges, MSET/MGET. */
final class StringCommands {
    private static final String OVERFLOW = "ERR increment or decrement would overflow";
    /** Redis's proto-max-bulk-len default: the longest string SETRANGE and APPEND may build. */
    static final long MAX_STRING = 512L * 1024 * 1024;

    /** Units of an expiry argument. */
    static final int EX = 0;
    static final int PX = 1;
    static final int EXAT = 2;
    static final int PXAT = 3;

    private StringCommands() {
    }

    static int run(Command c, Call x) {
        Args a = x.a;
        Reply r = x.r;
        switch (c) {
            case GET: {
                Keyspace.Entry e = x.entry(1);
                if (e == null) {
                    x.store.misses++;
                    r.nil();
                } else if (e.value instanceof byte[]) {
                    x.store.hits++;
                    r.bulk((byte[]) e.value);
                } else {
                    x.wrongType();
                }
                break;
            }
            case SET:
                set(x);
                break;
            case SETNX: {
                if (x.entry(1) != null) {
                    r.raw(Reply.ZERO);
                } else {
                    x.db.put(x.key, a.copy(2));
                    r.raw(Reply.ONE);
                }
                break;
            }
            case SETEX:
            case PSETEX: {
                long at = expiry(x, 2, c == Command.SETEX ? EX : PX, c.lower);
                if (at == Long.MIN_VALUE) {
                    break;
                }
                Keyspace.Entry e = x.db.put(a.key(x.key, 1), a.copy(3));
                x.db.expireAt(e, at);
                x.ok();
                break;
            }
            case GETSET:
            case GETDEL: {
                Keyspace.Entry e = x.entry(1);
                if (e == null) {
                    r.nil();
                    if (c == Command.GETSET) {
                        x.db.put(x.key, a.copy(2));
                    }
                } else if (!(e.value instanceof byte[])) {
                    x.wrongType();
                } else {
                    r.bulk((byte[]) e.value);
                    if (c == Command.GETSET) {
                        x.db.put(x.key, a.copy(2));
                    } else {
                        x.db.delete(e);
                    }
                }
                break;
            }
            case GETEX:
                getex(x);
                break;
            case APPEND: {
                Keyspace.Entry e = x.entry(1);
                if (e == null) {
                    byte[] v = a.copy(2);
                    x.db.put(x.key, v);
                    r.integer(v.length);
                } else if (!(e.value instanceof byte[])) {
                    x.wrongType();
                } else {
                    byte[] old = (byte[]) e.value;
                    if ((long) old.length + a.length(2) > MAX_STRING) {
                        x.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
                        break;
                    }
                    byte[] v = Arrays.copyOf(old, old.length + a.length(2));
                    System.arraycopy(a.data, a.offset(2), v, old.length, a.length(2));
                    e.value = v;
                    r.integer(v.length);
                }
                break;
            }
            case STRLEN: {
                Object v = x.value(1);
                if (v == null) {
                    r.raw(Reply.ZERO);
                } else if (v instanceof byte[]) {
                    r.integer(((byte[]) v).length);
                } else {
                    x.wrongType();
                }
                break;
            }
            case GETRANGE:
            case SUBSTR:
                getrange(x);
                break;
            case SETRANGE:
                setrange(x);
                break;
            case INCR:
                incrBy(x, 1);
                break;
            case DECR:
                incrBy(x, -1);
                break;
            case INCRBY:
                if (x.longArg(2)) {
                    incrBy(x, a.toLong(2));
                }
                break;
            case DECRBY:
                if (x.longArg(2)) {
                    if (a.toLong(2) == Long.MIN_VALUE) {
                        x.error("ERR decrement would overflow");
                    } else {
                        incrBy(x, -a.toLong(2));
                    }
                }
                break;
            case INCRBYFLOAT:
                incrByFloat(x);
                break;
            case MSET:
            case MSETNX: {
                if (a.argc % 2 == 0) {
                    x.wrongArity(c.lower);
                    break;
                }
                if (c == Command.MSETNX) {
                    boolean any = false;
                    for (int i = 1; i < a.argc && !any; i += 2) {
                        any = x.entry(i) != null;
                    }
                    if (any) {
                        r.raw(Reply.ZERO);
                        break;
                    }
                }
                for (int i = 1; i < a.argc; i += 2) {
                    x.db.put(a.key(x.key, i), a.copy(i + 1));
                }
                if (c == Command.MSET) {
                    x.ok();
                } else {
                    r.raw(Reply.ONE);
                }
                break;
            }
            case MGET:
                r.arrayHeader(a.argc - 1);
                for (int i = 1; i < a.argc; i++) {
                    Keyspace.Entry e = x.entry(i);
                    if (e != null && e.value instanceof byte[]) {
                        r.bulk((byte[]) e.value);
                    } else {
                        r.nil();
                    }
                }
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    /**
     * The monotonic deadline for an expiry argument {@code v} in {@code unit}, or Long.MIN_VALUE if it overflows
     * (Redis's "invalid expire time"). A deadline in the past comes back as at most {@code now}.
     */
    static long deadline(long v, int unit, long now) {
        long ms;
        if (unit == EX || unit == EXAT) {
            if (v > Long.MAX_VALUE / 1000 || v < Long.MIN_VALUE / 1000) {
                return Long.MIN_VALUE;
            }
            ms = v * 1000;
        } else {
            ms = v;
        }
        if (unit == EX || unit == PX) {
            long wall = System.currentTimeMillis();
            if (ms > Long.MAX_VALUE - wall || ms < Long.MIN_VALUE + wall) { // Redis's check on absolute time
                return Long.MIN_VALUE;
            }
            return ms <= 0 ? now : now + ms;
        }
        long at = Keyspace.fromUnixMs(ms);
        return ms <= Keyspace.toUnixMs(now) ? Math.min(at, now) : at;
    }

    static void invalidExpire(Call x, String command) {
        x.error("ERR invalid expire time in '" + command + "' command");
    }

    /** The unit an expiry option at argument {@code i} names (EX, PX, EXAT, PXAT), or -1 if it names none. */
    private static int expiryUnit(Args a, int i) {
        return a.is(i, "ex") ? EX : a.is(i, "px") ? PX : a.is(i, "exat") ? EXAT : a.is(i, "pxat") ? PXAT : -1;
    }

    /**
     * The deadline that SET, GETEX, SETEX and PSETEX read from a positive expiry at argument {@code i} in
     * {@code unit}, or Long.MIN_VALUE after replying (not an integer, or Redis's "invalid expire time").
     */
    private static long expiry(Call x, int i, int unit, String command) {
        if (!x.longArg(i)) {
            return Long.MIN_VALUE;
        }
        long v = x.a.toLong(i);
        long at = deadline(v, unit, x.now);
        if (v <= 0 || at == Long.MIN_VALUE) {
            invalidExpire(x, command);
            return Long.MIN_VALUE;
        }
        return at;
    }

    private static void set(Call x) {
        Args a = x.a;
        boolean nx = false;
        boolean xx = false;
        boolean get = false;
        boolean keepTtl = false;
        int expireArg = -1;
        int unit = EX;
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
            } else if (expiryUnit(a, i) >= 0 && !keepTtl && expireArg < 0 && next) {
                unit = expiryUnit(a, i);
                expireArg = ++i;
            } else {
                x.syntax();
                return;
            }
        }
        long at = expireArg > 0 ? expiry(x, expireArg, unit, "set") : 0;
        if (at == Long.MIN_VALUE) {
            return;
        }
        Keyspace.Entry old = x.entry(1);
        if (get && old != null && !(old.value instanceof byte[])) {
            x.wrongType();
            return;
        }
        boolean apply = !(nx && old != null) && !(xx && old == null);
        if (get) {
            if (old == null) {
                x.r.nil();
            } else {
                x.r.bulk((byte[]) old.value);
            }
        } else if (apply) {
            x.ok();
        } else {
            x.r.nil();
        }
        if (!apply) {
            return;
        }
        long keptDeadline = keepTtl && old != null ? old.expireAt : Keyspace.NO_TTL;
        Keyspace.Entry e = x.db.put(x.key, a.copy(2));
        if (expireArg > 0) {
            x.db.expireAt(e, at);
        } else if (keptDeadline != Keyspace.NO_TTL) {
            x.db.expireAt(e, keptDeadline);
        }
    }

    private static void getex(Call x) {
        Args a = x.a;
        int unit = -1;
        boolean persist = false;
        int expireArg = -1;
        for (int i = 2; i < a.argc; i++) {
            boolean next = i + 1 < a.argc;
            if (a.is(i, "persist") && unit < 0 && !persist) {
                persist = true;
            } else if (expiryUnit(a, i) >= 0 && unit < 0 && !persist && next) {
                unit = expiryUnit(a, i);
                expireArg = ++i;
            } else {
                x.syntax();
                return;
            }
        }
        long at = expireArg > 0 ? expiry(x, expireArg, unit, "getex") : 0;
        if (at == Long.MIN_VALUE) {
            return;
        }
        Keyspace.Entry e = x.entry(1);
        if (e == null) {
            x.r.nil();
            return;
        }
        if (!(e.value instanceof byte[])) {
            x.wrongType();
            return;
        }
        x.r.bulk((byte[]) e.value);
        if (expireArg > 0) {
            if (at <= x.now) {
                x.db.delete(e);
            } else {
                x.db.expireAt(e, at);
            }
        } else if (persist) {
            x.db.setNoTtl(e);
        }
    }

    private static void getrange(Call x) {
        Args a = x.a;
        if (!a.isLong(2) || !a.isLong(3)) {
            x.notInteger();
            return;
        }
        long start = a.toLong(2);
        long end = a.toLong(3);
        Object v = x.value(1);
        if (v == null) {
            x.r.bulk(new byte[0]);
            return;
        }
        if (!(v instanceof byte[])) {
            x.wrongType();
            return;
        }
        byte[] s = (byte[]) v;
        long n = s.length;
        if (start < 0 && end < 0 && start > end) {
            x.r.bulk(new byte[0]);
            return;
        }
        if (start < 0) {
            start = n + start;
        }
        if (end < 0) {
            end = n + end;
        }
        start = Math.max(0, start);
        end = Math.max(0, end);
        end = Math.min(end, n - 1);
        if (start > end || n == 0) {
            x.r.bulk(new byte[0]);
            return;
        }
        x.r.bulk(s, (int) start, (int) (end - start + 1));
    }

    private static void setrange(Call x) {
        Args a = x.a;
        if (!x.longArg(2)) {
            return;
        }
        long offset = a.toLong(2);
        if (offset < 0) {
            x.error("ERR offset is out of range");
            return;
        }
        int n = a.length(3);
        Keyspace.Entry e = x.entry(1);
        if (e != null && !(e.value instanceof byte[])) {
            x.wrongType();
            return;
        }
        byte[] old = e == null ? new byte[0] : (byte[]) e.value;
        if (n == 0) {
            x.r.integer(old.length);
            return;
        }
        if (offset > MAX_STRING - n) {
            x.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
            return;
        }
        byte[] v = old.length >= offset + n ? old : Arrays.copyOf(old, (int) (offset + n));
        System.arraycopy(a.data, a.offset(3), v, (int) offset, n);
        if (e == null) {
            x.db.put(x.key, v);
        } else {
            e.value = v;
        }
        x.r.integer(v.length);
    }

    private static void incrBy(Call x, long by) {
        Keyspace.Entry e = x.entry(1);
        long current = 0;
        if (e != null) {
            if (!(e.value instanceof byte[])) {
                x.wrongType();
                return;
            }
            byte[] v = (byte[]) e.value;
            if (!Numbers.isLong(v, 0, v.length)) {
                x.notInteger();
                return;
            }
            current = Numbers.parseLong(v, 0, v.length);
        }
        if ((by < 0 && current < 0 && by < Long.MIN_VALUE - current)
                || (by > 0 && current > 0 && by > Long.MAX_VALUE - current)) {
            x.error(OVERFLOW);
            return;
        }
        long n = current + by;
        if (e != null) {
            e.value = Numbers.toBytes(n); // keeps the time to live, as Redis does
        } else {
            x.db.put(x.key, Numbers.toBytes(n));
        }
        x.r.integer(n);
    }

    private static void incrByFloat(Call x) {
        double by = Numbers.parseDouble(x.a.text(2));
        Keyspace.Entry e = x.entry(1);
        double current = 0;
        if (e != null) {
            if (!(e.value instanceof byte[])) {
                x.wrongType();
                return;
            }
            current = Numbers.parseDouble(new String((byte[]) e.value, java.nio.charset.StandardCharsets.ISO_8859_1));
            if (Double.isNaN(current) || Double.isInfinite(current)) {
                x.error("ERR value is not a valid float");
                return;
            }
        }
        if (Double.isNaN(by)) {
            x.error("ERR value is not a valid float");
            return;
        }
        double n = current + by;
        if (Double.isNaN(n) || Double.isInfinite(n)) {
            x.error("ERR increment would produce NaN or Infinity");
            return;
        }
        byte[] v = Reply.ascii(Numbers.formatDouble(n));
        if (e != null) {
            e.value = v;
        } else {
            x.db.put(x.key, v);
        }
        x.r.bulk(v);
    }
}
