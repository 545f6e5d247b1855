package org.epoll4j.examples.resp;

/** Commands on keys whatever their type: DEL, EXISTS, TYPE, the EXPIRE and TTL families, KEYS, SCAN, RENAME ... */
final class KeyCommands {
    private KeyCommands() {
    }

    static int run(Command c, Call x) {
        Args a = x.a;
        Reply r = x.r;
        switch (c) {
            case DEL:
            case UNLINK: {
                int n = 0;
                for (int i = 1; i < a.argc; i++) {
                    n += x.db.remove(a.key(x.key, i), x.now) ? 1 : 0;
                }
                r.integer(n);
                break;
            }
            case EXISTS:
            case TOUCH: {
                int n = 0;
                for (int i = 1; i < a.argc; i++) {
                    n += x.entry(i) != null ? 1 : 0;
                }
                r.integer(n);
                break;
            }
            case TYPE:
                r.simple(type(x.value(1)));
                break;
            case EXPIRE:
                expire(x, StringCommands.EX);
                break;
            case PEXPIRE:
                expire(x, StringCommands.PX);
                break;
            case EXPIREAT:
                expire(x, StringCommands.EXAT);
                break;
            case PEXPIREAT:
                expire(x, StringCommands.PXAT);
                break;
            case TTL:
            case PTTL:
            case EXPIRETIME:
            case PEXPIRETIME: {
                Keyspace.Entry e = x.entry(1);
                if (e == null) {
                    r.integer(-2);
                } else if (e.expireAt == Keyspace.NO_TTL) {
                    r.integer(-1);
                } else {
                    boolean abs = c == Command.EXPIRETIME || c == Command.PEXPIRETIME;
                    boolean ms = c == Command.PTTL || c == Command.PEXPIRETIME;
                    long v = abs ? Keyspace.toUnixMs(e.expireAt) : Math.max(0, e.expireAt - x.now);
                    r.integer(ms ? v : (v + 500) / 1000);
                }
                break;
            }
            case PERSIST: {
                Keyspace.Entry e = x.entry(1);
                if (e == null || e.expireAt == Keyspace.NO_TTL) {
                    r.raw(Reply.ZERO);
                } else {
                    x.db.setNoTtl(e);
                    r.raw(Reply.ONE);
                }
                break;
            }
            case KEYS:
                keys(x);
                break;
            case SCAN:
                scan(x);
                break;
            case RANDOMKEY: {
                Keyspace.Entry found = null;
                for (int tries = 0; tries < 100 && x.db.size() > 0 && found == null; tries++) {
                    Keyspace.Entry e = x.db.random();
                    found = x.db.get(e.key, x.now);
                }
                if (found == null) {
                    r.nil();
                } else {
                    r.bulk(found.key.toArray());
                }
                break;
            }
            case RENAME:
            case RENAMENX:
                rename(x, c == Command.RENAMENX);
                break;
            case COPY:
                copy(x);
                break;
            case MOVE:
                move(x);
                break;
            case OBJECT:
                object(x);
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    static String type(Object v) {
        if (v == null) {
            return "none";
        }
        if (v instanceof byte[]) {
            return "string";
        }
        if (v instanceof ByteList) {
            return "list";
        }
        if (v instanceof ByteSet) {
            return "set";
        }
        return v instanceof ByteZSet ? "zset" : "hash";
    }

    private static void expire(Call x, int unit) {
        Args a = x.a;
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
                x.error("ERR Unsupported option " + a.text(i));
                return;
            }
        }
        if (nx && (xx || gt || lt)) {
            x.error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt) {
            x.error("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!x.longArg(2)) {
            return;
        }
        long at = StringCommands.deadline(a.toLong(2), unit, x.now);
        String name = a.text(0).toLowerCase(java.util.Locale.ROOT);
        if (at == Long.MIN_VALUE) {
            StringCommands.invalidExpire(x, name);
            return;
        }
        Keyspace.Entry e = x.entry(1);
        if (e == null) {
            x.r.raw(Reply.ZERO);
            return;
        }
        long cur = e.expireAt;
        boolean none = cur == Keyspace.NO_TTL;
        if ((nx && !none) || (xx && none) || (gt && (none || at <= cur)) || (lt && !none && at >= cur)) {
            x.r.raw(Reply.ZERO);
            return;
        }
        if (at <= x.now) {
            x.db.delete(e); // a deadline in the past deletes the key
        } else {
            x.db.expireAt(e, at);
        }
        x.r.raw(Reply.ONE);
    }

    private static void keys(Call x) {
        Args a = x.a;
        Keyspace db = x.db;
        java.util.List<Bytes> found = new java.util.ArrayList<>();
        boolean all = a.length(1) == 1 && a.data[a.offset(1)] == '*';
        for (int i = 0; i < db.size(); i++) {
            Keyspace.Entry e = db.at(i);
            if (e.expireAt != Keyspace.NO_TTL && e.expireAt <= x.now) {
                continue; // as Redis: listed only if not expired (deleted lazily later, not while iterating)
            }
            if (all || matches(a, 1, e.key)) {
                found.add(e.key);
            }
        }
        x.r.arrayHeader(found.size());
        for (Bytes k : found) {
            x.r.bulk(k.toArray());
        }
    }

    private static boolean matches(Args a, int i, Bytes key) {
        byte[] k = key.toArray();
        return Glob.matches(a.data, a.offset(i), a.length(i), k, 0, k.length, false);
    }

    /** SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]: walks the dense array from the end down (see Keyspace). */
    private static void scan(Call x) {
        Args a = x.a;
        String cursorText = a.text(1);
        long cursor;
        try {
            cursor = Long.parseUnsignedLong(cursorText);
        } catch (NumberFormatException e) {
            x.error("ERR invalid cursor");
            return;
        }
        int match = -1;
        long count = 10;
        String type = null;
        for (int i = 2; i < a.argc; i += 2) {
            if (i + 1 >= a.argc) {
                x.syntax();
                return;
            }
            if (a.is(i, "match")) {
                match = i + 1;
            } else if (a.is(i, "count")) {
                if (!x.longArg(i + 1)) {
                    return;
                }
                count = a.toLong(i + 1);
                if (count < 1) {
                    x.syntax();
                    return;
                }
            } else if (a.is(i, "type")) {
                type = a.text(i + 1).toLowerCase(java.util.Locale.ROOT);
            } else {
                x.syntax();
                return;
            }
        }
        Keyspace db = x.db;
        long start = cursor == 0 || cursor > db.size() ? db.size() : cursor;
        java.util.List<Bytes> found = new java.util.ArrayList<>();
        long i = start;
        for (long n = 0; i > 0 && n < count; n++) {
            Keyspace.Entry e = db.at((int) --i);
            if (e.expireAt != Keyspace.NO_TTL && e.expireAt <= x.now) {
                continue;
            }
            if ((match < 0 || matches(a, match, e.key)) && (type == null || type.equals(type(e.value)))) {
                found.add(e.key);
            }
        }
        x.r.arrayHeader(2);
        x.r.bulk(Long.toString(i));
        x.r.arrayHeader(found.size());
        for (Bytes k : found) {
            x.r.bulk(k.toArray());
        }
    }

    private static void rename(Call x, boolean nx) {
        Keyspace.Entry src = x.entry(1);
        if (src == null) {
            x.error("ERR no such key");
            return;
        }
        Keyspace.Entry dst = x.db.get(x.a.key(x.key, 2), x.now);
        if (dst == src) {
            x.r.raw(nx ? Reply.ZERO : Reply.OK);
            return;
        }
        if (dst != null && nx) {
            x.r.raw(Reply.ZERO);
            return;
        }
        if (dst != null) {
            x.db.delete(dst);
        }
        x.db.delete(src);
        Keyspace.Entry moved = new Keyspace.Entry(x.key.copy(), src.value);
        moved.expireAt = src.expireAt;
        x.db.add(moved);
        x.store.recharge(moved);
        x.r.raw(nx ? Reply.ONE : Reply.OK);
    }

    private static void copy(Call x) {
        Args a = x.a;
        Keyspace target = x.db;
        boolean replace = false;
        for (int i = 3; i < a.argc; i++) {
            if (a.is(i, "replace")) {
                replace = true;
            } else if (a.is(i, "db") && i + 1 < a.argc) {
                Keyspace db = database(x, ++i);
                if (db == null) {
                    return;
                }
                target = db;
            } else {
                x.syntax();
                return;
            }
        }
        Keyspace.Entry src = x.entry(1);
        Keyspace.Entry dst = target.get(a.key(x.field, 2), x.now);
        if (target == x.db && src != null && dst == src) {
            x.error("ERR source and destination objects are the same");
            return;
        }
        if (src == null || (dst != null && !replace)) {
            x.r.raw(Reply.ZERO);
            return;
        }
        if (dst != null) {
            target.delete(dst);
        }
        Keyspace.Entry e = new Keyspace.Entry(x.field.copy(), Values.copy(src.value));
        e.expireAt = src.expireAt;
        target.add(e);
        x.store.recharge(e);
        x.r.raw(Reply.ONE);
    }

    private static void move(Call x) {
        Keyspace target = database(x, 2);
        if (target == null) {
            return;
        }
        if (target == x.db) {
            x.error("ERR source and destination objects are the same");
            return;
        }
        Keyspace.Entry src = x.entry(1);
        if (src == null || target.get(x.key, x.now) != null) {
            x.r.raw(Reply.ZERO);
            return;
        }
        x.db.delete(src);
        Keyspace.Entry e = new Keyspace.Entry(src.key, src.value);
        e.expireAt = src.expireAt;
        target.add(e);
        x.store.recharge(e);
        x.r.raw(Reply.ONE);
    }

    /** The database numbered by argument {@code i}, or null after replying Redis's error. */
    static Keyspace database(Call x, int i) {
        if (!x.a.isLong(i)) {
            x.notInteger();
            return null;
        }
        long n = x.a.toLong(i);
        if (n < 0 || n >= x.store.dbs.length) {
            x.error("ERR DB index is out of range");
            return null;
        }
        return x.store.dbs[(int) n];
    }

    private static void object(Call x) {
        Args a = x.a;
        if (a.is(1, "help")) {
            x.r.arrayHeader(1);
            x.r.simple("OBJECT <subcommand> [<arg> ...]. Subcommands are: ENCODING, FREQ, IDLETIME, REFCOUNT, HELP.");
            return;
        }
        if (a.argc != 3) {
            x.error("ERR unknown subcommand or wrong number of arguments for '" + a.text(1) + "'. Try OBJECT HELP.");
            return;
        }
        Keyspace.Entry e = x.db.peek(a.key(x.key, 2)); // not get(): that would reset the idle time
        if (e == null || (e.expireAt != Keyspace.NO_TTL && e.expireAt <= x.now)) {
            x.r.nil();
            return;
        }
        if (a.is(1, "encoding")) {
            x.r.bulk(Values.encoding(e.value, x.store.config));
        } else if (a.is(1, "refcount")) {
            x.r.integer(1);
        } else if (a.is(1, "idletime")) {
            x.r.integer(Math.max(0, x.now - e.access) / 1000);
        } else if (a.is(1, "freq")) {
            x.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
                    + "when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        } else {
            x.error("ERR unknown subcommand '" + a.text(1) + "'. Try OBJECT HELP.");
        }
    }
}
