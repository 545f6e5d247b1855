package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SPOP, SRANDMEMBER, SCARD, SMOVE and the set algebra. */
final class SetCommands {
    private SetCommands() {
    }

    static int run(Command c, Call x) {
        Args a = x.a;
        Reply r = x.r;
        switch (c) {
            case SINTER:
            case SUNION:
            case SDIFF:
            case SINTERSTORE:
            case SUNIONSTORE:
            case SDIFFSTORE:
                algebra(c, x);
                return Call.CONTINUE;
            case SINTERCARD:
                interCard(x);
                return Call.CONTINUE;
            case SMOVE:
                move(x);
                return Call.CONTINUE;
            default:
                break;
        }
        Keyspace.Entry e = x.entry(1);
        if (e != null && !(e.value instanceof ByteSet)) {
            x.wrongType();
            return Call.CONTINUE;
        }
        ByteSet set = e == null ? null : (ByteSet) e.value;
        switch (c) {
            case SADD: {
                if (set == null) {
                    set = new ByteSet();
                    x.db.put(x.key, set);
                }
                int added = 0;
                for (int i = 2; i < a.argc; i++) {
                    added += set.add(a.key(x.field, i)) ? 1 : 0;
                }
                r.integer(added);
                break;
            }
            case SREM: {
                int n = 0;
                for (int i = 2; set != null && i < a.argc; i++) {
                    n += set.remove(a.key(x.field, i)) ? 1 : 0;
                }
                emptied(x, e, set);
                r.integer(n);
                break;
            }
            case SCARD:
                r.integer(set == null ? 0 : set.size());
                break;
            case SMEMBERS:
                members(r, set);
                break;
            case SISMEMBER:
                r.raw(set != null && set.contains(a.key(x.field, 2)) ? Reply.ONE : Reply.ZERO);
                break;
            case SMISMEMBER:
                r.arrayHeader(a.argc - 2);
                for (int i = 2; i < a.argc; i++) {
                    r.raw(set != null && set.contains(a.key(x.field, i)) ? Reply.ONE : Reply.ZERO);
                }
                break;
            case SPOP:
                spop(x, e, set);
                break;
            case SRANDMEMBER:
                randMember(x, set);
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    private static void members(Reply r, ByteSet set) {
        r.setHeader(set == null ? 0 : set.size());
        for (int i = 0; set != null && i < set.size(); i++) {
            r.bulk(set.at(i).toArray());
        }
    }

    private static void emptied(Call x, Keyspace.Entry e, ByteSet set) {
        if (set != null && set.size() == 0) {
            x.db.delete(e); // Redis deletes a set once it is empty
        }
    }

    private static void spop(Call x, Keyspace.Entry e, ByteSet set) {
        Args a = x.a;
        if (a.argc > 3) {
            x.syntax();
            return;
        }
        if (a.argc == 2) {
            if (set == null) {
                x.r.nil();
                return;
            }
            Bytes m = set.random();
            set.remove(m);
            x.r.bulk(m.toArray());
            emptied(x, e, set);
            return;
        }
        if (!a.isLong(2) || a.toLong(2) < 0) {
            x.error("ERR value is out of range, must be positive");
            return;
        }
        long count = a.toLong(2);
        if (set == null) {
            x.r.setHeader(0);
            return;
        }
        int n = (int) Math.min(count, set.size());
        x.r.setHeader(n);
        for (int i = 0; i < n; i++) {
            Bytes m = set.random();
            set.remove(m);
            x.r.bulk(m.toArray());
        }
        emptied(x, e, set);
    }

    private static void randMember(Call x, ByteSet set) {
        Args a = x.a;
        if (a.argc > 3) {
            x.syntax();
            return;
        }
        if (a.argc == 2) {
            if (set == null) {
                x.r.nil();
            } else {
                x.r.bulk(set.random().toArray());
            }
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
        if (set == null || count == 0) {
            x.r.raw(Reply.EMPTY_ARRAY);
            return;
        }
        if (count < 0) {
            x.r.arrayHeader(-count);
            for (long i = 0; i < -count; i++) {
                x.r.bulk(set.random().toArray());
            }
            return;
        }
        int n = (int) Math.min(count, set.size());
        int[] idx = new int[set.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        x.r.arrayHeader(n);
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        for (int i = 0; i < n; i++) { // a partial Fisher-Yates shuffle: n distinct members
            int j = i + rnd.nextInt(idx.length - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            x.r.bulk(set.at(idx[i]).toArray());
        }
    }

    /** The set at argument {@code i}: null if missing; WRONGTYPE replied and {@code WRONG} returned if not a set. */
    private static final ByteSet WRONG = new ByteSet();

    private static ByteSet setAt(Call x, int i) {
        Object v = x.value(i);
        if (v == null) {
            return null;
        }
        if (!(v instanceof ByteSet)) {
            x.wrongType();
            return WRONG;
        }
        return (ByteSet) v;
    }

    private static void algebra(Command c, Call x) {
        Args a = x.a;
        boolean store = c == Command.SINTERSTORE || c == Command.SUNIONSTORE || c == Command.SDIFFSTORE;
        int first = store ? 2 : 1;
        List<ByteSet> sets = new ArrayList<>();
        for (int i = first; i < a.argc; i++) {
            ByteSet s = setAt(x, i);
            if (s == WRONG) {
                return;
            }
            sets.add(s);
        }
        ByteSet result = new ByteSet();
        if (c == Command.SINTER || c == Command.SINTERSTORE) {
            boolean anyMissing = sets.contains(null);
            if (!anyMissing) {
                ByteSet smallest = sets.get(0);
                for (ByteSet s : sets) {
                    if (s.size() < smallest.size()) {
                        smallest = s;
                    }
                }
                outer:
                for (int k = 0; k < smallest.size(); k++) {
                    Bytes m = smallest.at(k);
                    for (ByteSet s : sets) {
                        if (!s.contains(m)) {
                            continue outer;
                        }
                    }
                    result.add(m);
                }
            }
        } else if (c == Command.SUNION || c == Command.SUNIONSTORE) {
            for (ByteSet s : sets) {
                for (int k = 0; s != null && k < s.size(); k++) {
                    result.add(s.at(k));
                }
            }
        } else {
            ByteSet base = sets.get(0);
            for (int k = 0; base != null && k < base.size(); k++) {
                Bytes m = base.at(k);
                boolean keep = true;
                for (int j = 1; j < sets.size() && keep; j++) {
                    keep = sets.get(j) == null || !sets.get(j).contains(m);
                }
                if (keep) {
                    result.add(m);
                }
            }
        }
        if (!store) {
            members(x.r, result);
            return;
        }
        Keyspace.Entry dst = x.db.get(a.key(x.key, 1), x.now);
        if (dst != null) {
            x.db.delete(dst);
        }
        if (result.size() > 0) {
            x.store.recharge(x.db.put(x.key, result));
        }
        x.r.integer(result.size());
    }

    private static void interCard(Call x) {
        Args a = x.a;
        long numkeys = a.isLong(1) ? a.toLong(1) : 0;
        if (numkeys <= 0) {
            x.error("ERR numkeys should be greater than 0");
            return;
        }
        if (numkeys > a.argc - 2) {
            x.error("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        for (int i = 2 + (int) numkeys; i < a.argc; i += 2) {
            if (a.is(i, "limit") && i + 1 < a.argc) {
                if (!a.isLong(i + 1) || a.toLong(i + 1) < 0) {
                    x.error("ERR LIMIT can't be negative");
                    return;
                }
                limit = a.toLong(i + 1);
            } else {
                x.syntax();
                return;
            }
        }
        List<ByteSet> sets = new ArrayList<>();
        boolean missing = false;
        for (int i = 2; i < 2 + numkeys; i++) {
            ByteSet s = setAt(x, i);
            if (s == WRONG) {
                return;
            }
            missing |= s == null;
            sets.add(s);
        }
        long n = 0;
        if (!missing) {
            ByteSet smallest = sets.get(0);
            for (ByteSet s : sets) {
                if (s.size() < smallest.size()) {
                    smallest = s;
                }
            }
            outer:
            for (int k = 0; k < smallest.size() && (limit == 0 || n < limit); k++) {
                for (ByteSet s : sets) {
                    if (!s.contains(smallest.at(k))) {
                        continue outer;
                    }
                }
                n++;
            }
        }
        x.r.integer(n);
    }

    private static void move(Call x) {
        Args a = x.a;
        ByteSet src = setAt(x, 1);
        if (src == WRONG) {
            return;
        }
        Keyspace.Entry srcEntry = x.db.peek(a.key(x.key, 1));
        ByteSet dst = setAt(x, 2);
        if (dst == WRONG) {
            return;
        }
        if (src == null || !src.contains(a.key(x.field, 3))) {
            x.r.raw(Reply.ZERO);
            return;
        }
        if (src == dst) {
            x.r.raw(Reply.ONE);
            return;
        }
        src.remove(x.field);
        emptied(x, srcEntry, src);
        if (dst == null) {
            dst = new ByteSet();
            x.store.recharge(x.db.put(a.key(x.key, 2), dst));
        }
        dst.add(x.field);
        x.r.raw(Reply.ONE);
    }
}
