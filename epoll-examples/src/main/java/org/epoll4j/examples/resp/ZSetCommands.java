package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** The sorted-set commands redis-benchmark's default run needs, and the basic reads: ZADD, ZPOPMIN/MAX, ZRANGE ... */
final class ZSetCommands {
    private ZSetCommands() {
    }

    static int run(Command c, Call x) {
        if (c == Command.ZADD || c == Command.ZINCRBY) {
            zadd(x, c == Command.ZINCRBY);
            return Call.CONTINUE;
        }
        Keyspace.Entry e = x.entry(1);
        if (e != null && !(e.value instanceof ByteZSet)) {
            x.wrongType();
            return Call.CONTINUE;
        }
        ByteZSet z = e == null ? null : (ByteZSet) e.value;
        Args a = x.a;
        switch (c) {
            case ZCARD:
                x.r.integer(z == null ? 0 : z.size());
                break;
            case ZSCORE: {
                Double s = z == null ? null : z.score(a.key(x.field, 2));
                if (s == null) {
                    x.r.nil();
                } else {
                    x.r.dbl(s);
                }
                break;
            }
            case ZREM: {
                int n = 0;
                for (int i = 2; z != null && i < a.argc; i++) {
                    n += z.remove(a.key(x.field, i)) ? 1 : 0;
                }
                if (z != null && z.size() == 0) {
                    x.db.delete(e);
                }
                x.r.integer(n);
                break;
            }
            case ZPOPMIN:
            case ZPOPMAX: {
                long count = 1;
                if (a.argc > 3) {
                    x.syntax();
                    break;
                }
                if (a.argc == 3) {
                    if (!a.isLong(2) || a.toLong(2) < 0) {
                        x.error("ERR value is out of range, must be positive");
                        break;
                    }
                    count = a.toLong(2);
                }
                int n = z == null ? 0 : (int) Math.min(count, z.size());
                if (x.r.resp3 && a.argc == 3) {
                    x.r.arrayHeader(n);
                } else {
                    x.r.arrayHeader(x.r.resp3 ? (n == 0 ? 0 : 2) : 2L * n);
                }
                for (int i = 0; i < n; i++) {
                    ByteZSet.Item it = z.pop(c == Command.ZPOPMIN);
                    if (x.r.resp3 && a.argc == 3) {
                        x.r.arrayHeader(2);
                    }
                    x.r.bulk(it.member.toArray());
                    x.r.dbl(it.score);
                }
                if (z != null && z.size() == 0) {
                    x.db.delete(e);
                }
                break;
            }
            case ZRANGE:
                range(x, z);
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    private static void zadd(Call x, boolean incrCommand) {
        Args a = x.a;
        boolean nx = false;
        boolean xx = false;
        boolean gt = false;
        boolean lt = false;
        boolean ch = false;
        boolean incr = incrCommand;
        int i = 2;
        for (; !incrCommand && i < a.argc; i++) {
            if (a.is(i, "nx")) {
                nx = true;
            } else if (a.is(i, "xx")) {
                xx = true;
            } else if (a.is(i, "gt")) {
                gt = true;
            } else if (a.is(i, "lt")) {
                lt = true;
            } else if (a.is(i, "ch")) {
                ch = true;
            } else if (a.is(i, "incr")) {
                incr = true;
            } else {
                break;
            }
        }
        int pairs = a.argc - i;
        if (pairs == 0 || pairs % 2 != 0) {
            x.syntax();
            return;
        }
        if (nx && xx) {
            x.error("ERR XX and NX options at the same time are not compatible");
            return;
        }
        if ((gt && nx) || (lt && nx) || (gt && lt)) {
            x.error("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }
        if (incr && pairs > 2) {
            x.error("ERR INCR option supports a single increment-element pair");
            return;
        }
        double[] scores = new double[pairs / 2];
        for (int k = 0; k < scores.length; k++) {
            scores[k] = Numbers.parseDouble(a.text(i + 2 * k));
            if (Double.isNaN(scores[k])) {
                x.error("ERR value is not a valid float");
                return;
            }
        }
        Keyspace.Entry e = x.entry(1);
        if (e != null && !(e.value instanceof ByteZSet)) {
            x.wrongType();
            return;
        }
        ByteZSet z = e == null ? new ByteZSet() : (ByteZSet) e.value;
        int added = 0;
        int changed = 0;
        Double result = null;
        for (int k = 0; k < scores.length; k++) {
            Bytes m = a.key(x.field, i + 2 * k + 1);
            Double cur = z.score(m);
            double score = scores[k];
            if ((nx && cur != null) || (xx && cur == null)) {
                continue;
            }
            if (incr) {
                score = (cur == null ? 0 : cur) + score;
                if (Double.isNaN(score)) {
                    x.error("ERR resulting score is not a number (NaN)");
                    return;
                }
            }
            if (cur != null && ((gt && score <= cur) || (lt && score >= cur))) {
                continue;
            }
            if (z.put(m, score)) {
                added++;
            } else if (cur != score) {
                changed++;
            }
            result = score;
        }
        if (e == null && z.size() > 0) {
            x.db.put(a.key(x.key, 1), z);
        }
        if (incr) {
            if (result == null) {
                x.r.nil();
            } else {
                x.r.dbl(result);
            }
        } else {
            x.r.integer(ch ? added + changed : added);
        }
    }

    /** ZRANGE key start stop [WITHSCORES], by rank. */
    private static void range(Call x, ByteZSet z) {
        Args a = x.a;
        boolean withScores = a.argc == 5 && a.is(4, "withscores");
        if (a.argc > 5 || (a.argc == 5 && !withScores)) {
            x.syntax();
            return;
        }
        IndexRange range = x.range;
        if (!range.read(x, 2)) {
            return;
        }
        range.within(z == null ? 0 : z.size());
        List<ByteZSet.Item> items = new ArrayList<>();
        if (z != null && !range.isEmpty()) {
            Iterator<ByteZSet.Item> it = z.byScore.iterator();
            for (long k = 0; k <= range.last && it.hasNext(); k++) {
                ByteZSet.Item item = it.next();
                if (k >= range.first) {
                    items.add(item);
                }
            }
        }
        boolean pairs = withScores && x.r.resp3;
        x.r.arrayHeader(withScores && !pairs ? 2L * items.size() : items.size());
        for (ByteZSet.Item item : items) {
            if (pairs) {
                x.r.arrayHeader(2);
            }
            x.r.bulk(item.member.toArray());
            if (withScores) {
                x.r.dbl(item.score);
            }
        }
    }
}
