package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quicktheories.core.Gen;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.epoll4j.testutil.Pbt.qt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * The timer heap against a sorted-list model: random adds (few distinct deadlines, so ties are common), removals
 * from anywhere and polls always yield the earliest deadline, FIFO among equal deadlines, also when deadlines wrap
 * past Long.MAX_VALUE.
 */
@ExtendWith(FdLeakCheck.class)
class TimerQueueProperties {

    /** Encoded ops: 0..9 add with deadline n, 10..19 remove the (n-10)th pending entry, 20 poll. */
    static Gen<List<Integer>> ops() {
        return lists().of(integers().between(0, 20)).ofSizeBetween(0, 120);
    }

    @Test
    @Timeout(60)
    void heapPollsInDeadlineThenFifoOrder() {
        // in memory and cheap, so many examples; shrinking is cheap too
        qt(1000, 10_000).forAll(ops()).checkAssert(TimerQueueProperties::heapPollsInDeadlineThenFifoOrder);
    }

    private static void heapPollsInDeadlineThenFifoOrder(List<Integer> ops) {
        TimerQueue heap = new TimerQueue();
        List<ScheduledTask> model = new ArrayList<>();
        long base = Long.MAX_VALUE - 4; // System.nanoTime() may be anywhere: deadlines past base wrap negative
        Comparator<ScheduledTask> order = Comparator.<ScheduledTask>comparingLong(t -> t.deadlineNanos - base)
                .thenComparingLong(t -> t.seq);
        long seq = 0;
        for (int op : ops) {
            if (op < 10) {
                ScheduledTask t = new ScheduledTask(null, base + op, () -> { });
                t.seq = seq++;
                heap.add(t);
                model.add(t);
            } else if (op < 20) {
                if (!model.isEmpty()) {
                    ScheduledTask t = model.remove((op - 10) % model.size());
                    heap.remove(t);
                    heap.remove(t); // a second removal is a no-op
                    assertEquals(-1, t.heapIndex);
                }
            } else {
                model.sort(order);
                ScheduledTask expected = model.isEmpty() ? null : model.remove(0);
                assertSame(expected, heap.poll());
            }
            assertEquals(model.size(), heap.size());
        }
        model.sort(order);
        for (ScheduledTask t : model) {
            assertSame(t, heap.poll());
        }
        assertNull(heap.peek());
    }
}
