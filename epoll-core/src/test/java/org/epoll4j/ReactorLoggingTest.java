package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.epoll4j.testutil.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TRACE logs each dispatched event (fd, ready bits, interest, trigger mode) and, when off, costs the loop no
 * allocation; the level is re-read off the per-event path, so turning it on while the loop runs takes effect.
 */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class ReactorLoggingTest {
    private static final String LOGGER = Reactor.class.getName();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes the calling thread allocates over {@code n} polls that each dispatch one event. */
    private static long allocatedOver(Reactor reactor, int n) throws EpollException {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        int dispatched = 0;
        for (int i = 0; i < n; i++) {
            dispatched += reactor.poll(Duration.ZERO);
        }
        long after = THREADS.getCurrentThreadAllocatedBytes();
        assertEquals(n, dispatched, "each poll dispatches the undrained eventfd");
        return after - before;
    }

    @Test
    void traceOffAllocatesNothingPerDispatchAndTraceOnLogsEachEvent() throws Exception {
        assertTrue(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled());
        int efd = Fds.eventfd();
        try (LogCapture log = new LogCapture(LOGGER, Level.INFO);
             Reactor reactor = Reactor.builder().name("trace-test").build()) {
            long[] handled = new long[1];
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (r, ready) -> handled[0]++);
            Fds.signal(efd, 1); // never drained: LEVEL reports it on every poll
            allocatedOver(reactor, 50_000); // warm up: compile the loop
            // Until the JIT has compiled the whole path (slower for the FFM binding's downcall stubs, and on a loaded
            // CI machine) the interpreter allocates; a real per-dispatch object would cost >= 1.6 MB every round.
            long off = Long.MAX_VALUE;
            for (int round = 0; round < 20 && off >= 16 * 1024; round++) {
                off = Math.min(off, allocatedOver(reactor, 100_000));
            }
            System.out.println("[trace-test] TRACE off: " + off + " bytes over 100000 dispatches");
            assertTrue(off < 16 * 1024, "TRACE off allocated " + off + " bytes over 100000 dispatches");
            assertTrue(log.drain().isEmpty());

            // Turned on while the reactor exists: busy polls re-read the level within 1024 iterations.
            java.util.logging.Logger.getLogger(LOGGER).setLevel(Level.FINEST);
            long on = allocatedOver(reactor, 2048);
            LogRecord r = log.await(x -> x.getLevel() == Level.FINER, Duration.ofSeconds(5));
            String text = LogCapture.text(r);
            assertEquals("trace-test: fd " + efd + " Ready[READABLE] (events 0x1), Interest[READ], LEVEL", text);
            assertTrue(on > 2048, "the positive control: logging does allocate (" + on + " bytes)");
        } finally {
            Fds.close(efd);
        }
    }
}
