package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.List;

/** List commands: pushes, pops (BLPOP/BRPOP block with a timeout), LRANGE, LINDEX, LLEN, LSET. */
final class ListCommands {
    private static final String NOT_POSITIVE = "ERR value is out of range, must be positive";

    private ListCommands() {
    }

    static int run(Command c, Call x) {
        Args a = x.a;
        Reply r = x.r;
        switch (c) {
            case LPUSH:
            case RPUSH:
            case LPUSHX:
            case RPUSHX:
                push(x, c == Command.LPUSH || c == Command.LPUSHX, c == Command.LPUSHX || c == Command.RPUSHX);
                break;
            case LPOP:
            case RPOP:
                pop(x, c == Command.LPOP);
                break;
            case LRANGE:
                lrange(x);
                break;
            case LLEN: {
                ByteList l = list(x, 1);
                if (l != null || !wrong(x)) {
                    r.integer(l == null ? 0 : l.size());
                }
                break;
            }
            case LINDEX: {
                if (!x.longArg(2)) {
                    break;
                }
                ByteList l = list(x, 1);
                if (l == null) {
                    if (!wrong(x)) {
                        r.nil();
                    }
                    break;
                }
                long i = a.toLong(2);
                i = i < 0 ? l.size() + i : i;
                if (i < 0 || i >= l.size()) {
                    r.nil();
                } else {
                    r.bulk(l.get((int) i));
                }
                break;
            }
            case LSET: {
                if (!x.longArg(2)) {
                    break;
                }
                ByteList l = list(x, 1);
                if (l == null) {
                    if (!wrong(x)) {
                        x.error("ERR no such key");
                    }
                    break;
                }
                long i = a.toLong(2);
                i = i < 0 ? l.size() + i : i;
                if (i < 0 || i >= l.size()) {
                    x.error("ERR index out of range");
                } else {
                    l.set((int) i, a.copy(3));
                    x.ok();
                }
                break;
            }
            case BLPOP:
            case BRPOP:
                return blockingPop(x, c == Command.BLPOP);
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    /** The list at argument {@code i}, or null (then {@link #wrong} tells whether it was another type). */
    private static ByteList list(Call x, int i) {
        Object v = x.value(i);
        return v instanceof ByteList ? (ByteList) v : null;
    }

    /** After {@link #list} returned null: replies WRONGTYPE and returns true if the key holds another type. */
    private static boolean wrong(Call x) {
        Keyspace.Entry e = x.db.peek(x.key);
        if (e != null && !(e.value instanceof ByteList)) {
            x.wrongType();
            return true;
        }
        return false;
    }

    private static void push(Call x, boolean head, boolean onlyExisting) {
        Args a = x.a;
        Keyspace.Entry e = x.entry(1);
        ByteList list;
        if (e == null) {
            if (onlyExisting) {
                x.r.raw(Reply.ZERO);
                return;
            }
            list = new ByteList();
            x.db.put(x.key, list);
        } else if (e.value instanceof ByteList) {
            list = (ByteList) e.value;
        } else {
            x.wrongType();
            return;
        }
        for (int i = 2; i < a.argc; i++) {
            if (head) {
                list.addFirst(a.copy(i));
            } else {
                list.addLast(a.copy(i));
            }
        }
        x.r.integer(list.size());
        x.store.blocking.signal(x.s.db, x.key);
    }

    private static void pop(Call x, boolean head) {
        Args a = x.a;
        if (a.argc > 3) {
            x.wrongArity(head ? "lpop" : "rpop");
            return;
        }
        boolean counted = a.argc == 3;
        long count = 1;
        if (counted) {
            if (!a.isLong(2) || a.toLong(2) < 0) {
                x.error(NOT_POSITIVE);
                return;
            }
            count = a.toLong(2);
        }
        Keyspace.Entry e = x.entry(1);
        if (e == null) {
            if (counted) {
                x.r.nilArray();
            } else {
                x.r.nil();
            }
            return;
        }
        if (!(e.value instanceof ByteList)) {
            x.wrongType();
            return;
        }
        ByteList list = (ByteList) e.value;
        if (!counted) {
            x.r.bulk(head ? list.pollFirst() : list.pollLast());
        } else {
            int n = (int) Math.min(count, list.size());
            x.r.arrayHeader(n);
            for (int i = 0; i < n; i++) {
                x.r.bulk(head ? list.pollFirst() : list.pollLast());
            }
        }
        if (list.size() == 0) {
            x.db.delete(e); // Redis deletes a list once it is empty
        }
    }

    private static void lrange(Call x) {
        IndexRange range = x.range;
        if (!range.read(x, 2)) {
            return;
        }
        ByteList list = list(x, 1);
        if (list == null) {
            if (!wrong(x)) {
                x.r.raw(Reply.EMPTY_ARRAY);
            }
            return;
        }
        if (range.within(list.size()).isEmpty()) {
            x.r.raw(Reply.EMPTY_ARRAY);
            return;
        }
        x.r.arrayHeader(range.size());
        for (long i = range.first; i <= range.last; i++) {
            x.r.bulk(list.get((int) i));
        }
    }

    /** BLPOP/BRPOP key [key ...] timeout: pops from the first non-empty list, else blocks the client. */
    private static int blockingPop(Call x, boolean head) {
        Args a = x.a;
        String t = a.text(a.argc - 1);
        double timeout = Numbers.parseDouble(t);
        if (Double.isNaN(timeout) || Double.isInfinite(timeout)) {
            x.error("ERR timeout is not a float or out of range");
            return Call.CONTINUE;
        }
        if (timeout < 0) {
            x.error("ERR timeout is negative");
            return Call.CONTINUE;
        }
        for (int i = 1; i < a.argc - 1; i++) {
            Keyspace.Entry e = x.entry(i);
            if (e == null) {
                continue;
            }
            if (!(e.value instanceof ByteList)) {
                x.wrongType();
                return Call.CONTINUE;
            }
            ByteList list = (ByteList) e.value;
            x.r.arrayHeader(2);
            x.r.bulk(a.data, a.offset(i), a.length(i));
            x.r.bulk(head ? list.pollFirst() : list.pollLast());
            if (list.size() == 0) {
                x.db.delete(e);
            }
            return Call.CONTINUE;
        }
        if (x.inExec) {
            x.r.nilArray(); // inside MULTI a blocking pop does not block
            return Call.CONTINUE;
        }
        List<Bytes> keys = new ArrayList<>();
        for (int i = 1; i < a.argc - 1; i++) {
            keys.add(a.key(x.key, i).copy());
        }
        Blocking.Waiter w = new Blocking.Waiter(x.s, x.s.db, keys, head);
        x.store.blocking.block(w, timeout, x.s.connection.reactor());
        return Call.BLOCKED;
    }
}
