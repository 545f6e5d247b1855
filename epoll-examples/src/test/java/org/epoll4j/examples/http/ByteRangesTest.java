package org.epoll4j.examples.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * A Range value's byte ranges against a naive model: the parts are exactly the bytes the satisfiable ranges ask for,
 * none twice, in the asked order when nothing had to be coalesced; more than 16 ranges are ignored.
 */
@Timeout(60)
class ByteRangesTest {
    /** One range-spec from three numbers: kind 0 {@code a-b}, 1 {@code a-}, 2 {@code -a}. */
    private static String spec(int kind, int a, int b) {
        switch (kind) {
            case 0:
                return Math.min(a, b) + "-" + Math.max(a, b);
            case 1:
                return a + "-";
            default:
                return "-" + a;
        }
    }

    /** The inclusive range a spec asks for in {@code size} bytes, or null if it is unsatisfiable. */
    private static long[] resolve(int kind, int a, int b, long size) {
        long f;
        long l;
        if (kind == 2) {
            if (a == 0 || size == 0) {
                return null;
            }
            f = Math.max(0, size - a);
            l = size - 1;
        } else {
            f = kind == 0 ? Math.min(a, b) : a;
            l = kind == 0 ? Math.min(Math.max(a, b), size - 1) : size - 1;
            if (f >= size) {
                return null;
            }
        }
        return new long[] {f, l};
    }

    @Test
    void partsAreExactlyTheAskedBytesOnce() {
        qt().withExamples(3000).forAll(integers().between(0, 120),
                lists().of(integers().between(0, 3 * 130 * 130 - 1)).ofSizeBetween(1, 20))
                .checkAssert((size, codes) -> {
            StringBuilder header = new StringBuilder("bytes=");
            List<long[]> asked = new ArrayList<>();
            BitSet wanted = new BitSet();
            for (int i = 0; i < codes.size(); i++) {
                int code = codes.get(i);
                int kind = code % 3;
                int a = code / 3 % 130;
                int b = code / 3 / 130;
                header.append(i == 0 ? "" : (i % 2 == 0 ? "," : " , ")).append(spec(kind, a, b));
                long[] r = resolve(kind, a, b, size);
                if (r != null) {
                    asked.add(r);
                    wanted.set((int) r[0], (int) r[1] + 1);
                }
            }
            byte[] value = header.toString().getBytes(StandardCharsets.US_ASCII);
            ByteRanges ranges = new ByteRanges();
            int result = ranges.parse(value, 0, value.length, size);
            String what = header + " of " + size;
            if (codes.size() > ByteRanges.MAX) {
                assertEquals(ByteRanges.IGNORE, result, what);
                return;
            }
            if (asked.isEmpty()) {
                assertEquals(ByteRanges.UNSATISFIABLE, result, what);
                return;
            }
            assertEquals(ByteRanges.SATISFIABLE, result, what);
            BitSet got = new BitSet();
            for (int i = 0; i < ranges.count; i++) {
                int f = (int) ranges.first[i];
                int l = (int) ranges.last[i];
                assertTrue(f <= l && l < size, what);
                for (int j = 0; j < i; j++) { // no byte twice, and no two parts that could have been one
                    assertTrue(f > ranges.last[j] + 1 || ranges.first[j] > l + 1, what);
                }
                got.set(f, l + 1);
            }
            assertEquals(wanted, got, what);
            boolean disjoint = true;
            for (int i = 0; i < asked.size(); i++) {
                for (int j = i + 1; j < asked.size(); j++) {
                    disjoint &= asked.get(j)[0] > asked.get(i)[1] + 1 || asked.get(i)[0] > asked.get(j)[1] + 1;
                }
            }
            if (disjoint) {
                assertEquals(asked.size(), ranges.count, what);
                for (int i = 0; i < asked.size(); i++) {
                    assertEquals(asked.get(i)[0], ranges.first[i], what + ": in the asked order");
                }
            } else {
                for (int i = 1; i < ranges.count; i++) {
                    assertTrue(ranges.first[i] > ranges.last[i - 1], what + ": ascending once coalesced");
                }
            }
        });
    }

    @Test
    void invalidElementsAndOtherUnitsAreIgnored() {
        for (String v : new String[] {"bytes=0-1,x-3", "bytes=0-1,5-4", "bytes=0-1,-", "bytes=0-1,7", "lines=0-1",
                "bytes=", "bytes= , ,", "bytes=0-1;2-3"}) {
            byte[] b = v.getBytes(StandardCharsets.US_ASCII);
            assertEquals(ByteRanges.IGNORE, new ByteRanges().parse(b, 0, b.length, 100), v);
        }
    }
}
