package org.epoll4j.net;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.MsgHdr;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Outbound}, a connection's sending half, on its own: a recording {@link Outbound.Owner} stands in for the
 * connection, and a non-blocking AF_UNIX socketpair ({@link UnixPair}) for the socket, whose reader end the test
 * drains by hand so that "the socket is full" and "the queue drains" happen exactly when a test says.
 *
 * <p>The reactor is never started: the test thread stands in for its loop (Outbound and the reactor's
 * {@link NetContext} are loop-thread only and are used by this one thread here).
 */
@ExtendWith(FdLeakCheck.class)
class OutboundTest {
    private Reactor reactor;
    private NetContext ctx;
    private final List<UnixPair> pairs = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        reactor = Reactor.open();
        ctx = NetContext.of(reactor);
    }

    @AfterEach
    void tearDown() {
        pairs.forEach(UnixPair::close);
        reactor.close();
    }

    /** Records every call the outbound half makes into its connection; {@code onRefill}/{@code onWritability} act. */
    static final class Recorder implements Outbound.Owner {
        Outbound outbound;
        boolean connecting;
        boolean selfDriven;
        /** Tasks are expected here although LEVEL (a direct send's deferred flush). */
        boolean tasksAllowed;
        final List<Runnable> tasks = new ArrayList<>();
        /** What waits for the end of the batch (batched writes); the test runs it. */
        final List<Runnable> batchEnd = new ArrayList<>();
        /** The reactor's current batch size as the outbound half sees it. */
        int batchEvents;
        boolean closed;
        long held;
        int interestChanged;
        int refills;
        int drained;
        final List<Boolean> writability = new ArrayList<>();
        final List<Throwable> failures = new ArrayList<>();
        Runnable onRefill = () -> { };

        @Override
        public boolean connecting() {
            return connecting;
        }

        @Override
        public boolean closed() {
            return closed;
        }

        @Override
        public boolean selfDriven() {
            return selfDriven; // false (LEVEL): a flush that spent its budget waits for the next EPOLLOUT
        }

        @Override
        public void later(Runnable task) {
            assertTrue(selfDriven || tasksAllowed,
                    "a task asked for, but only EDGE (selfDriven) continues a flush by a task");
            tasks.add(task);
        }

        @Override
        public void afterBatch(Runnable task) {
            batchEnd.add(task);
        }

        @Override
        public int batchEvents() {
            return batchEvents;
        }

        @Override
        public void fail(Throwable cause) {
            failures.add(cause);
            closed = true;
            outbound.clear();
        }

        @Override
        public void interestChanged() {
            interestChanged++;
        }

        @Override
        public long held() {
            return held;
        }

        @Override
        public void refill() {
            refills++;
            onRefill.run();
        }

        @Override
        public void drained() {
            drained++;
        }

        @Override
        public void writabilityChanged(boolean writable) {
            writability.add(writable);
        }
    }

    private final Recorder owner = new Recorder();

    private UnixPair pair(int sendBuffer) {
        UnixPair p = new UnixPair(sendBuffer);
        pairs.add(p);
        return p;
    }

    private Outbound outbound(UnixPair pair, int lowWatermark, int highWatermark) {
        return outbound(pair, ConnectionConfig.defaults().withWriteWatermarks(lowWatermark, highWatermark));
    }

    private Outbound outbound(UnixPair pair, ConnectionConfig config) {
        owner.outbound = new Outbound(owner, ctx, pair.writer, config, null);
        return owner.outbound;
    }

    private Outbound outbound(UnixPair pair) {
        return outbound(pair, 1 << 20, 1 << 21); // watermarks out of the way
    }

    // ------------------------------------------------------------------ batched writes

    @Test
    @Timeout(10)
    void batchedWritesWaitForTheBatchEndThenLeaveInOneSendWithoutAskingForEpollout() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair, ConnectionConfig.defaults().withBatchedWrites(true));
        byte[] a = random(100, 60);
        byte[] b = random(200, 61);
        out.write(ByteBuffer.wrap(a));
        out.write(ByteBuffer.wrap(b));
        out.onWritable(); // an EPOLLOUT in the same event does not send them early
        assertEquals(0, out.writeCalls(), "held");
        assertEquals(300, out.queuedBytes(), "and counted as queued");
        assertFalse(out.wantsWrite(), "no EPOLLOUT while held: under LEVEL that would be an epoll_ctl per batch");
        assertEquals(1, owner.batchEnd.size(), "one batch-end flush, however many writes");
        assertTrue(out.directWriteCalls() == 0 && out.trySendDirect(ByteBuffer.wrap(a)) == -1, "no direct send");

        owner.batchEnd.remove(0).run();
        assertEquals(1, out.writeCalls(), "one gathering send");
        assertEquals(0, out.queuedBytes());
        assertArrayEquals(concat(a, b), pair.readAll());
        out.write(ByteBuffer.wrap(a));
        assertEquals(1, owner.batchEnd.size(), "the next batch holds again");
    }

    @Test
    @Timeout(10)
    void inASaturatedBatchBatchedWritesGoAtOnce() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair, ConnectionConfig.defaults().withBatchedWrites(true));
        byte[] a = random(100, 64);
        owner.batchEvents = Outbound.SATURATED_BATCH;
        out.write(ByteBuffer.wrap(a));
        assertEquals(1, out.writeCalls(), "sent at once");
        assertTrue(owner.batchEnd.isEmpty(), "nothing held: no batch-end flush");
        assertArrayEquals(a, pair.readAll());

        owner.batchEvents = Outbound.SATURATED_BATCH - 1;
        out.write(ByteBuffer.wrap(a));
        assertEquals(1, out.writeCalls(), "one event fewer: held");
        assertEquals(1, owner.batchEnd.size());
        owner.batchEnd.remove(0).run();
        assertArrayEquals(a, pair.readAll());
    }

    @Test
    @Timeout(10)
    void aCorkOutlastsTheBatchEndAndAnUncorkWaitsForTheNextOne() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair, ConnectionConfig.defaults().withBatchedWrites(true));
        out.cork();
        out.write(ByteBuffer.wrap(random(50, 62)));
        assertTrue(owner.batchEnd.isEmpty(), "corked: nothing would have been sent, nothing to hold");
        out.uncork();
        assertEquals(0, out.writeCalls(), "an uncork inside a batch sends at its end");
        assertEquals(1, owner.batchEnd.size());
        owner.batchEnd.remove(0).run();
        assertEquals(50, pair.readAll().length);

        out.write(ByteBuffer.wrap(random(10, 63)));
        out.cork();
        owner.batchEnd.remove(0).run();
        assertEquals(0, out.bytesWritten() - 50, "corked at the batch's end: still held");
        assertEquals(10, out.queuedBytes());
    }

    // ------------------------------------------------------------------ direct sends (another thread's)

    @Test
    @Timeout(10)
    void aDirectSendGoesStraightToTheSocketAndIsCounted() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair);
        byte[] heap = random(100_000, 40); // more than one bounce buffer: two sends
        byte[] direct = random(3000, 41);

        assertEquals(-1, out.trySendDirect(ByteBuffer.wrap(heap)), "not enabled: every write is the loop's");
        out.enableDirectSends();
        ByteBuffer h = ByteBuffer.wrap(heap);
        assertEquals(heap.length, out.trySendDirect(h));
        assertFalse(h.hasRemaining());
        ByteBuffer d = ByteBuffer.allocateDirect(direct.length).put(direct).flip();
        assertEquals(direct.length, out.trySendDirect(d));

        assertEquals(heap.length + direct.length, out.bytesWritten());
        assertEquals(3, out.directWriteCalls());
        assertEquals(3, out.writeCalls(), "direct sends count among the write calls");
        assertArrayEquals(concat(heap, direct), pair.readAll());
        assertEquals(0, owner.interestChanged);
    }

    @Test
    @Timeout(10)
    void aDirectSendTakesWhatTheSocketTakesAndReportsZeroWhenFull() {
        UnixPair pair = pair(4096);
        Outbound out = outbound(pair);
        out.enableDirectSends();
        byte[] data = random(300_000, 42);
        ByteBuffer src = ByteBuffer.wrap(data);

        int sent = out.trySendDirect(src);
        assertTrue(sent > 0 && sent < data.length, () -> "a prefix: " + sent);
        assertEquals(sent, src.position());
        assertEquals(0, out.trySendDirect(src), "the socket is full: EAGAIN, nothing sent");
        assertEquals(0, out.queuedBytes(), "a direct send queues nothing: the rest is its caller's");
        assertArrayEquals(java.util.Arrays.copyOf(data, sent), pair.readAll());
    }

    @Test
    @Timeout(10)
    void aDirectSendRefusesWhileBytesAreQueuedCorkedOrTheOutputEnded() {
        UnixPair pair = pair(4096);
        Outbound out = outbound(pair);
        out.enableDirectSends();
        out.write(ByteBuffer.wrap(random(300_000, 43))); // the socket fills, the rest queues
        assertTrue(out.queuedBytes() > 0);
        ByteBuffer src = ByteBuffer.wrap(random(10, 44));
        assertEquals(-1, out.trySendDirect(src), "bytes queued: the loop sends first");
        assertEquals(0, src.position(), "refused: nothing consumed");
        drain(out, pair);

        out.cork();
        assertEquals(-1, out.trySendDirect(src), "corked");
        out.uncork();
        assertEquals(10, out.trySendDirect(src));

        out.endDirectSends();
        assertEquals(-1, out.trySendDirect(ByteBuffer.wrap(random(10, 45))), "the output ended");
    }

    @Test
    @Timeout(10)
    void whileAWriterHoldsTheTokenTheLoopQueuesAndTheReleaseSchedulesTheFlush() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair);
        owner.tasksAllowed = true;
        out.enableDirectSends();
        byte[] data = random(5000, 46);

        assertTrue(out.acquireDirect(), "a writer takes the token");
        assertFalse(out.acquireDirect(), "one writer at a time");
        out.write(ByteBuffer.wrap(data)); // the loop, meanwhile: must not send beside the writer's send
        assertEquals(0, out.writeCalls(), "queued, not sent");
        assertEquals(data.length, out.queuedBytes());
        out.onWritable(); // EPOLLOUT meanwhile: still not the loop's turn
        assertEquals(0, out.writeCalls());
        assertTrue(owner.tasks.isEmpty());

        out.releaseDirect();
        assertEquals(1, owner.tasks.size(), "the release schedules the deferred flush");
        owner.tasks.remove(0).run();
        assertEquals(0, out.queuedBytes());
        assertArrayEquals(data, pair.readAll());
        assertTrue(out.acquireDirect(), "the token is free again");
        out.releaseDirect();
        assertTrue(owner.tasks.isEmpty(), "nothing deferred this time");
    }

    @Test
    @Timeout(10)
    void aCloseWhileAWriterHoldsTheTokenLeavesTheFdToTheWriter() {
        UnixPair pair = pair(0);
        int fd = LibC.dup(pair.writer);
        assertTrue(fd >= 0);
        owner.outbound = new Outbound(owner, ctx, fd, ConnectionConfig.defaults(), null);
        Outbound out = owner.outbound;
        out.enableDirectSends();

        assertTrue(out.acquireDirect());
        assertFalse(out.claimFdForClose(), "a send may be under way: the fd must stay open");
        assertTrue(LibC.fcntl(fd, LibC.F_GETFD, 0) >= 0, "still open");
        out.releaseDirect(); // the writer closes it
        assertEquals(-1, LibC.fcntl(fd, LibC.F_GETFD, 0), "closed by the writer's release");
        assertEquals(Errno.EBADF, LibC.errno());
        assertFalse(out.acquireDirect(), "no direct send after a close");

        int fd2 = LibC.dup(pair.writer);
        Outbound idle = new Outbound(owner, ctx, fd2, ConnectionConfig.defaults(), null);
        idle.enableDirectSends();
        assertTrue(idle.claimFdForClose(), "no writer: the connection closes the fd itself");
        LibC.close(fd2);
        assertFalse(idle.acquireDirect());
    }

    // ------------------------------------------------------------------ straight to the socket, or queued

    @Test
    @Timeout(10)
    void aWriteWithNothingQueuedGoesStraightToTheSocketInOneCall() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair);
        byte[] heap = random(1000, 1);
        byte[] direct = random(3000, 2);

        out.write(ByteBuffer.wrap(heap));
        out.write(ByteBuffer.allocateDirect(direct.length).put(direct).flip());

        assertEquals(2, out.writeCalls(), "one send per write");
        assertTrue(out.isEmpty());
        assertEquals(0, out.queuedBytes());
        assertEquals(heap.length + direct.length, out.bytesWritten());
        assertEquals(0, owner.interestChanged, "nothing queued: no EPOLLOUT wanted");
        assertEquals(0, owner.drained, "nothing was queued, so nothing drained");
        assertArrayEquals(concat(heap, direct), pair.readAll());
    }

    @Test
    @Timeout(10)
    void whatTheSocketDoesNotTakeIsQueuedAndTheConnectionAskedForInterestOnce() {
        UnixPair pair = pair(4096);
        Outbound out = outbound(pair);
        byte[] data = random(200_000, 3);
        ByteBuffer src = ByteBuffer.wrap(data);

        out.write(src);

        assertFalse(src.hasRemaining(), "the queue copied the rest");
        assertEquals(1, out.writeCalls(), "the socket took part of one send");
        long sent = pair.unread();
        assertTrue(sent > 0 && sent < data.length, () -> "the socket took " + sent);
        assertEquals(data.length - sent, out.queuedBytes());
        assertEquals(sent, out.bytesWritten());
        assertEquals(1, owner.interestChanged);
        assertTrue(out.wantsWrite());

        assertArrayEquals(data, drain(out, pair));
        assertEquals(data.length, out.bytesWritten());
        assertEquals(1, owner.drained);
        assertFalse(out.wantsWrite());
    }

    @Test
    @Timeout(10)
    void whileConnectingWritesOnlyQueueUntilTheFlush() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair);
        owner.connecting = true;
        byte[] data = random(500, 20);

        out.write(ByteBuffer.wrap(data));
        assertEquals(0, out.writeCalls());
        assertEquals(500, out.queuedBytes());
        out.flushNowOrLater();
        assertEquals(0, out.writeCalls(), "still connecting: wait for EPOLLOUT");

        owner.connecting = false; // connected
        out.flushNowOrLater();
        assertEquals(1, out.writeCalls());
        assertTrue(out.isEmpty());
        assertArrayEquals(data, pair.readAll());
    }

    /**
     * Under EDGE epoll will not report the socket writable again while it is, so a flush that spent its write budget
     * continues by a task after other work: one task, however many flushes yield before it runs.
     */
    @Test
    @Timeout(10)
    void underEdgeAFlushThatSpendsItsBudgetContinuesByOneTask(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("region"), random(3000, 21));
        UnixPair pair = pair(0);
        owner.selfDriven = true;
        Outbound out = outbound(pair, ConnectionConfig.defaults().withWriteBudget(1));
        long filler = pair.fill();
        byte[] a = random(100, 22);
        byte[] b = random(200, 23);
        out.write(ByteBuffer.wrap(a)); // queued: the socket is full
        try (FileChannel channel = FileChannel.open(file)) {
            out.addFile(-1, channel, 0, 3000);
            out.write(ByteBuffer.wrap(b));
            pair.skip(filler);

            out.onWritable(); // a's chunk: one call, the budget
            assertEquals(1, owner.tasks.size());
            out.onWritable(); // the region: one call again; the task is already asked for
            assertEquals(1, owner.tasks.size());
            assertEquals(0, owner.drained);

            owner.tasks.remove(0).run(); // b
            assertTrue(out.isEmpty());
            assertEquals(1, owner.drained);
            assertEquals(List.of(), owner.tasks);
            assertEquals(1, out.maxWriteCallsPerFlush());
            assertArrayEquals(concat(a, Files.readAllBytes(file), b), pair.readAll());
        }
    }

    // ------------------------------------------------------------------ watermarks

    @Test
    @Timeout(10)
    void crossingTheHighWatermarkTurnsUnwritableExactlyOnce() {
        UnixPair pair = pair(4096);
        long filler = pair.fill(); // the socket takes nothing more: every byte written below is queued
        Outbound out = outbound(pair, 1000, 2000);

        out.write(ByteBuffer.wrap(random(2000, 4)));
        assertEquals(2000, out.queuedBytes());
        assertEquals(List.of(), owner.writability, "at the high watermark, not above it: still writable");
        assertTrue(out.isWritable());

        out.write(ByteBuffer.wrap(random(1, 5)));
        assertEquals(List.of(false), owner.writability);
        assertFalse(out.isWritable());

        out.write(ByteBuffer.wrap(random(5000, 6)));
        assertEquals(List.of(false), owner.writability, "already unwritable");

        pair.skip(filler);
        drain(out, pair);
        assertEquals(List.of(false, true), owner.writability);
    }

    /** Hysteresis: between the watermarks nothing is said, whichever way the queue moves. */
    @Test
    @Timeout(10)
    void drainingBelowTheLowWatermarkTurnsWritableOnceAndNothingHappensBetweenTheWatermarks() {
        int low = 32 * 1024;
        int high = 64 * 1024;
        UnixPair pair = pair(4096);
        Outbound out = outbound(pair, low, high);
        byte[] data = random(110 * 1024, 7);

        out.write(ByteBuffer.wrap(data, 0, 100 * 1024));
        assertEquals(List.of(false), owner.writability);
        out.write(ByteBuffer.wrap(data, 100 * 1024, 10 * 1024));
        assertEquals(List.of(false), owner.writability);

        // The peer reads in small steps; each EPOLLOUT flushes what the socket takes again.
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long between = (low + high) / 2;
        got.writeBytes(drainDownTo(out, pair, between, 4096));
        assertTrue(out.queuedBytes() > low, () -> "overshot into the low watermark: " + out.queuedBytes());
        assertEquals(List.of(false), owner.writability, "between the watermarks on the way down");

        got.writeBytes(drainDownTo(out, pair, low, 4096));
        assertEquals(List.of(false, true), owner.writability);
        assertTrue(out.isWritable());

        got.writeBytes(drain(out, pair));
        assertEquals(List.of(false, true), owner.writability, "nothing more down to empty");
        assertArrayEquals(data, got.toByteArray());
    }

    @Test
    @Timeout(10)
    void bytesTheConnectionHoldsCountTowardTheWatermarks() {
        UnixPair pair = pair(4096);
        pair.fill();
        Outbound out = outbound(pair, 1000, 2000);
        out.write(ByteBuffer.wrap(random(500, 8)));
        assertEquals(500, out.queuedBytes());

        owner.held = 1500;
        out.heldChanged();
        assertEquals(List.of(), owner.writability, "500 queued + 1500 held is at the high watermark");
        owner.held = 1501;
        out.heldChanged();
        assertEquals(List.of(false), owner.writability);
        owner.held = 600;
        out.heldChanged();
        assertEquals(List.of(false), owner.writability, "1100 is between the watermarks");
        owner.held = 500;
        out.heldChanged();
        assertEquals(List.of(false, true), owner.writability, "1000 is at the low watermark");

        owner.held = 1900;
        out.write(ByteBuffer.wrap(random(101, 9))); // a write checks the held bytes too: 601 + 1900
        assertEquals(List.of(false, true, false), owner.writability);
    }

    // ------------------------------------------------------------------ cork

    @Test
    @Timeout(10)
    void corkHoldsEveryWriteWithoutASystemCallAndUncorkSendsThemInOneGatheringCall() {
        UnixPair pair = pair(0);
        Outbound out = outbound(pair);
        byte[] a = random(10_000, 10);
        byte[] b = random(10_000, 11);
        byte[] c = random(10_000, 12);

        out.cork();
        out.write(ByteBuffer.wrap(a));
        out.write(ByteBuffer.allocateDirect(b.length).put(b).flip());
        out.write(ByteBuffer.wrap(c));
        assertEquals(0, out.writeCalls(), "corked: no system call");
        assertEquals(0, pair.unread());
        assertEquals(30_000, out.queuedBytes());
        assertFalse(out.wantsWrite(), "corked: no EPOLLOUT either");

        out.uncork();
        assertEquals(1, out.writeCalls(), "one call for all three");
        assertEquals(2, iovecsOfTheLastSendmsg(), "30,000 bytes in two pooled chunks, one sendmsg");
        assertTrue(out.isEmpty());
        assertEquals(1, owner.drained);
        assertArrayEquals(concat(a, b, c), pair.readAll());
    }

    // ------------------------------------------------------------------ refill and drained

    @Test
    @Timeout(10)
    void refillIsAskedWhenTheQueueDrainsAndWhatItWritesFollowsInOrder() {
        UnixPair pair = pair(4096);
        long filler = pair.fill();
        Outbound out = outbound(pair);
        byte[] queued = random(1000, 13);
        byte[] refilled = random(100_000, 14); // more than the socket takes at once
        owner.onRefill = () -> {
            if (owner.refills == 1) {
                out.write(ByteBuffer.wrap(refilled));
            }
        };
        out.write(ByteBuffer.wrap(queued));
        assertEquals(0, owner.refills, "the queue has not drained yet");

        pair.skip(filler);
        out.onWritable();
        assertEquals(1, owner.refills, "asked once the queue drained");
        assertFalse(out.isEmpty(), "the refill's bytes wait in the queue");
        assertEquals(0, owner.drained, "not drained while the refill's bytes are queued");

        byte[] got = drain(out, pair);
        assertEquals(2, owner.refills, "asked again when the refill's bytes drained (and wrote nothing)");
        assertEquals(1, owner.drained);
        assertArrayEquals(concat(queued, refilled), got);
    }

    @Test
    @Timeout(10)
    void drainedIsReportedOncePerDrain() {
        UnixPair pair = pair(4096);
        Outbound out = outbound(pair);

        long filler = pair.fill();
        out.write(ByteBuffer.wrap(random(100, 15)));
        pair.skip(filler);
        out.onWritable();
        assertEquals(1, owner.drained);
        assertEquals(1, owner.refills);
        out.onWritable(); // a spurious EPOLLOUT with nothing queued
        assertEquals(1, owner.drained);
        out.write(ByteBuffer.wrap(random(100, 16))); // straight out: nothing was queued
        assertEquals(1, owner.drained);

        filler = pair.fill();
        out.write(ByteBuffer.wrap(random(100, 17)));
        pair.skip(filler);
        out.onWritable();
        assertEquals(2, owner.drained);
        assertEquals(4, owner.interestChanged, "one as each queue started, one as it drained");
    }

    // ------------------------------------------------------------------ send errors

    @Test
    @Timeout(10)
    void aSendToAClosedPeerFailsWithEpipeNamingSendAndTheFdAndRaisesNoSigpipe() {
        try (BlockedSigpipe sigpipe = new BlockedSigpipe()) {
            // The check can see a SIGPIPE: a send without MSG_NOSIGNAL raises one.
            UnixPair control = pair(0);
            control.closeReader();
            assertEquals(-1, LibC.send(control.writer, NativeMemory.address(ByteBuffer.allocateDirect(1)), 1, 0));
            assertEquals(Errno.EPIPE, LibC.errno());
            assertTrue(sigpipe.takePending(), "a send without MSG_NOSIGNAL raises SIGPIPE");

            // Straight to the socket.
            UnixPair pair = pair(0);
            Outbound out = outbound(pair);
            pair.closeReader();
            out.write(ByteBuffer.wrap(random(10, 18)));
            assertFailedWithEpipe(pair.writer, "send(fd=" + pair.writer + ", 10 bytes)");
            assertFalse(sigpipe.takePending(), "the straight send raised SIGPIPE");
        }
    }

    @Test
    @Timeout(10)
    void aFlushToAClosedPeerFailsWithEpipeNamingSendAndTheFdAndRaisesNoSigpipe() {
        try (BlockedSigpipe sigpipe = new BlockedSigpipe()) {
            UnixPair pair = pair(4096);
            pair.fill();
            Outbound out = outbound(pair);
            out.write(ByteBuffer.wrap(random(20_000, 19))); // queued in two chunks
            pair.closeReader();

            out.onWritable();
            assertFailedWithEpipe(pair.writer, "sendmsg(fd=" + pair.writer + ", 20000 bytes)");
            assertFalse(sigpipe.takePending(), "the flush raised SIGPIPE");
            assertTrue(out.isEmpty(), "the owner's fail cleared the queue");
            assertEquals(0, owner.drained);
        }
    }

    private void assertFailedWithEpipe(int fd, String message) {
        assertEquals(1, owner.failures.size(), () -> "failures: " + owner.failures);
        EpollException e = assertInstanceOf(EpollException.class, owner.failures.get(0));
        assertEquals(Errno.EPIPE, e.errno());
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertTrue(e.getMessage().contains("fd=" + fd), e.getMessage());
    }

    /**
     * SIGPIPE blocked on the test thread, so that a SIGPIPE raised by a send on this thread stays pending, where
     * {@link #takePending} sees it (the JVM's own handler would otherwise swallow it unseen). Test-only native calls
     * through JNA: the binding has no signal-mask calls, and the library never needs them.
     */
    static final class BlockedSigpipe implements AutoCloseable {
        private static final int SIGPIPE = 13;
        private static final int SIG_BLOCK = 0;
        private static final int SIG_SETMASK = 2;
        private final Memory set = new Memory(128);
        private final Memory old = new Memory(128);
        private final Memory noWait = new Memory(16);

        BlockedSigpipe() {
            set.clear();
            set.setLong(0, 1L << (SIGPIPE - 1));
            old.clear();
            noWait.clear();
            assertEquals(0, Function.getFunction("c", "pthread_sigmask").invokeInt(new Object[] {SIG_BLOCK, set, old}));
            takePending(); // one from before is none of this test's business
        }

        /** Whether a SIGPIPE is pending for this thread (consuming it). */
        boolean takePending() {
            return Function.getFunction("c", "sigtimedwait").invokeInt(new Object[] {set, Pointer.NULL, noWait})
                    == SIGPIPE;
        }

        @Override
        public void close() {
            takePending();
            Function.getFunction("c", "pthread_sigmask").invokeInt(new Object[] {SIG_SETMASK, old, Pointer.NULL});
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Plays the peer and the loop: reads and reports EPOLLOUT until the queue is empty; returns what it read. */
    private static byte[] drain(Outbound out, UnixPair pair) {
        byte[] got = drainDownTo(out, pair, 0, Integer.MAX_VALUE);
        return concat(got, pair.readAll());
    }

    /**
     * Plays the peer and the loop: reads at most {@code step} bytes and reports EPOLLOUT, again, until the queue holds
     * at most {@code downTo} bytes; returns what it read.
     */
    private static byte[] drainDownTo(Outbound out, UnixPair pair, long downTo, int step) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int round = 0; out.queuedBytes() > downTo; round++) {
            assertTrue(round < 1_000_000, "the queue never drained");
            got.writeBytes(pair.read(step));
            out.onWritable();
        }
        return got.toByteArray();
    }

    /** msg_iovlen of the msghdr the last gathering sendmsg used (NetContext keeps it between calls). */
    private int iovecsOfTheLastSendmsg() {
        return (int) ctx.iov.getLong(NetContext.MAX_IOV * MsgHdr.IOVEC_SIZE + MsgHdr.MSG_IOVLEN);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
