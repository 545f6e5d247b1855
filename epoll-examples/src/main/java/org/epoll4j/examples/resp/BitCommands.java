package org.epoll4j.examples.resp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Commands on a string's bits and on two strings: SETBIT, GETBIT, BITCOUNT, LCS. */
final class BitCommands {
    private static final long MAX_BIT = 4L * 1024 * 1024 * 1024 - 1; // 512 MB of bits, as Redis

    private BitCommands() {
    }

    static int run(Command c, Call x) {
        switch (c) {
            case SETBIT:
                setbit(x);
                break;
            case GETBIT:
                getbit(x);
                break;
            case BITCOUNT:
                bitcount(x);
                break;
            case LCS:
                lcs(x);
                break;
            default:
                throw new AssertionError(c);
        }
        return Call.CONTINUE;
    }

    private static long offset(Call x, int i) {
        if (!x.a.isLong(i) || x.a.toLong(i) < 0 || x.a.toLong(i) > MAX_BIT) {
            x.error("ERR bit offset is not an integer or out of range");
            return -1;
        }
        return x.a.toLong(i);
    }

    private static void setbit(Call x) {
        long off = offset(x, 2);
        if (off < 0) {
            return;
        }
        Args a = x.a;
        if (a.length(3) != 1 || (a.data[a.offset(3)] != '0' && a.data[a.offset(3)] != '1')) {
            x.error("ERR bit is not an integer or out of range");
            return;
        }
        boolean on = a.data[a.offset(3)] == '1';
        Keyspace.Entry e = x.entry(1);
        if (e != null && !(e.value instanceof byte[])) {
            x.wrongType();
            return;
        }
        byte[] v = e == null ? new byte[0] : (byte[]) e.value;
        int byteIndex = (int) (off >>> 3);
        if (byteIndex >= v.length) {
            v = Arrays.copyOf(v, byteIndex + 1);
        }
        int mask = 1 << (7 - (int) (off & 7));
        int old = (v[byteIndex] & mask) != 0 ? 1 : 0;
        v[byteIndex] = (byte) (on ? v[byteIndex] | mask : v[byteIndex] & ~mask);
        if (e == null) {
            x.db.put(x.key, v);
        } else {
            e.value = v;
        }
        x.r.integer(old);
    }

    private static void getbit(Call x) {
        long off = offset(x, 2);
        if (off < 0) {
            return;
        }
        Object v = x.value(1);
        if (v != null && !(v instanceof byte[])) {
            x.wrongType();
            return;
        }
        byte[] b = v == null ? new byte[0] : (byte[]) v;
        long byteIndex = off >>> 3;
        x.r.integer(byteIndex < b.length && (b[(int) byteIndex] & (1 << (7 - (int) (off & 7)))) != 0 ? 1 : 0);
    }

    private static void bitcount(Call x) {
        Args a = x.a;
        Object v = x.value(1);
        if (v != null && !(v instanceof byte[])) {
            x.wrongType();
            return;
        }
        byte[] b = v == null ? new byte[0] : (byte[]) v;
        long start = 0;
        long end = b.length - 1L;
        if (a.argc == 4 || a.argc == 5) {
            IndexRange range = x.range;
            if (!range.read(x, 2)) {
                return;
            }
            if (a.argc == 5 && !a.is(4, "byte")) {
                x.syntax();
                return;
            }
            range.within(b.length);
            start = range.first;
            end = range.last;
        } else if (a.argc != 2) {
            x.syntax();
            return;
        }
        long n = 0;
        for (long i = start; i <= end; i++) {
            n += Integer.bitCount(b[(int) i] & 0xff);
        }
        x.r.integer(n);
    }

    /** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], with Redis's dynamic programme and reply shapes. */
    private static void lcs(Call x) {
        Args a = x.a;
        boolean len = false;
        boolean idx = false;
        boolean withLen = false;
        long minLen = 0;
        for (int i = 3; i < a.argc; i++) {
            if (a.is(i, "len")) {
                len = true;
            } else if (a.is(i, "idx")) {
                idx = true;
            } else if (a.is(i, "withmatchlen")) {
                withLen = true;
            } else if (a.is(i, "minmatchlen") && i + 1 < a.argc) {
                if (!x.longArg(++i)) {
                    return;
                }
                minLen = Math.max(0, a.toLong(i));
            } else {
                x.syntax();
                return;
            }
        }
        if (len && idx) {
            x.error("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }
        Object va = x.value(1);
        Object vb = x.value(2);
        if ((va != null && !(va instanceof byte[])) || (vb != null && !(vb instanceof byte[]))) {
            x.error("ERR The specified keys must contain string values");
            return;
        }
        byte[] s = va == null ? new byte[0] : (byte[]) va;
        byte[] t = vb == null ? new byte[0] : (byte[]) vb;
        int alen = s.length;
        int blen = t.length;
        if ((long) (alen + 1) * (blen + 1) * 4 > StringCommands.MAX_STRING) {
            x.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }
        int[] table = new int[(alen + 1) * (blen + 1)];
        int w = blen + 1;
        for (int i = 1; i <= alen; i++) {
            for (int j = 1; j <= blen; j++) {
                table[j + i * w] = s[i - 1] == t[j - 1] ? table[(j - 1) + (i - 1) * w] + 1
                        : Math.max(table[j + (i - 1) * w], table[(j - 1) + i * w]);
            }
        }
        int total = table[blen + alen * w];
        if (len) {
            x.r.integer(total);
            return;
        }
        byte[] result = new byte[total];
        List<long[]> ranges = new ArrayList<>();
        int k = total;
        int i = alen;
        int j = blen;
        int as = alen;
        int ae = 0;
        int bs = 0;
        int be = 0;
        while (i > 0 && j > 0) {
            boolean emit = false;
            if (s[i - 1] == t[j - 1]) {
                result[k - 1] = s[i - 1];
                if (as == alen) {
                    as = i - 1;
                    ae = i - 1;
                    bs = j - 1;
                    be = j - 1;
                } else if (as == i && bs == j) {
                    as--;
                    bs--;
                } else {
                    emit = true;
                }
                if (as == 0 || bs == 0) {
                    emit = true;
                }
                k--;
                i--;
                j--;
            } else {
                if (table[j + (i - 1) * w] > table[(j - 1) + i * w]) {
                    i--;
                } else {
                    j--;
                }
                if (as != alen) {
                    emit = true;
                }
            }
            if (emit) {
                long matchLen = ae - as + 1;
                if (minLen == 0 || matchLen >= minLen) {
                    ranges.add(new long[] {as, ae, bs, be, matchLen});
                }
                as = alen;
            }
        }
        if (!idx) {
            x.r.bulk(result);
            return;
        }
        x.r.mapHeader(2);
        x.r.bulk("matches");
        x.r.arrayHeader(ranges.size());
        for (long[] r : ranges) {
            x.r.arrayHeader(withLen ? 3 : 2);
            x.r.arrayHeader(2);
            x.r.integer(r[0]);
            x.r.integer(r[1]);
            x.r.arrayHeader(2);
            x.r.integer(r[2]);
            x.r.integer(r[3]);
            if (withLen) {
                x.r.integer(r[4]);
            }
        }
        x.r.bulk("len");
        x.r.integer(total);
    }
}
