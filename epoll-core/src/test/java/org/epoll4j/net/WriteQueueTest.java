package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.MsgHdr;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * {@link WriteQueue}, the bytes a connection could not send at once, on its own over a real non-blocking AF_UNIX
 * socketpair ({@link UnixPair}): pooled chunks gathered into one sendmsg, file regions sent with sendfile (an fd the
 * queue owns) or through the bounce buffer (a FileChannel), flushes bounded by a budget of write calls.
 *
 * <p>The reactor is never started: the test thread stands in for its loop, so the {@link NetContext} (the reactor's
 * chunk pool, iovec area and bounce buffer) is used by one thread only, as in production.
 */
@ExtendWith(FdLeakCheck.class)
class WriteQueueTest {
    private static final int CHUNK = NetContext.CHUNK_SIZE;
    private static final int FILE_SIZE = 256 * 1024;

    @TempDir
    Path dir;
    private Reactor reactor;
    private NetContext ctx;
    private Path file;
    private byte[] fileBytes;

    @BeforeEach
    void setUp() throws IOException {
        reactor = Reactor.open();
        ctx = NetContext.of(reactor);
        fileBytes = random(FILE_SIZE, 42);
        file = Files.write(dir.resolve("region"), fileBytes).toRealPath();
    }

    @AfterEach
    void tearDown() {
        queues.forEach(WriteQueue::clear); // a failed test must not leak the fds its queues own
        reactor.close();
    }

    private final List<WriteQueue> queues = new ArrayList<>();

    private WriteQueue newQueue() {
        WriteQueue q = new WriteQueue(ctx);
        queues.add(q);
        return q;
    }

    // ------------------------------------------------------------------ examples a newcomer can read first

    @Test
    @Timeout(10)
    void anEmptyQueueFlushesToDrainedWithoutASystemCall() throws IOException {
        try (UnixPair pair = new UnixPair()) {
            WriteQueue queue = newQueue();
            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 1));
            assertEquals(0, queue.lastCalls());
            assertEquals(0, pair.unread());
        }
    }

    @Test
    @Timeout(10)
    void chunksLeaveInOneGatheringSendmsg() throws IOException {
        try (UnixPair pair = new UnixPair()) {
            WriteQueue queue = newQueue();
            byte[] data = random(CHUNK * 2 + 100, 1); // three chunks
            queue.add(ByteBuffer.wrap(data, 0, 1000));
            queue.add(ByteBuffer.allocateDirect(data.length - 1000).put(data, 1000, data.length - 1000).flip());
            assertEquals(data.length, queue.bytes());

            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 16));
            assertEquals(1, queue.lastCalls());
            assertEquals(3, iovecsOfTheLastSendmsg());
            assertTrue(queue.isEmpty());
            assertEquals(0, queue.bytes());
            assertArrayEquals(data, pair.readAll());
        }
    }

    /**
     * One sendmsg carries at most {@link NetContext#MAX_IOV} (64) chunks. The kernel's send buffer would cut a 1 MiB
     * sendmsg short anyway, so the test reads msg_iovlen back from the msghdr the flush used.
     */
    @Test
    @Timeout(30)
    void oneSendmsgCarriesAtMost64Iovecs() throws IOException {
        try (UnixPair pair = new UnixPair()) {
            WriteQueue queue = newQueue();
            byte[] data = random(CHUNK * (NetContext.MAX_IOV + 1) + 10, 2); // 66 chunks
            queue.add(ByteBuffer.wrap(data));

            int r = queue.flush(pair.writer, 1);
            assertEquals(1, queue.lastCalls());
            assertEquals(NetContext.MAX_IOV, iovecsOfTheLastSendmsg());
            long sent = data.length - queue.bytes();
            assertTrue(sent > 0 && sent <= (long) CHUNK * NetContext.MAX_IOV, () -> "one call sent " + sent);
            assertEquals(sent == (long) CHUNK * NetContext.MAX_IOV ? WriteQueue.YIELDED : WriteQueue.FULL, r);

            assertArrayEquals(data, drain(queue, pair, 16));
        }
    }

    @Test
    @Timeout(10)
    void aRegionBetweenBuffersKeepsItsPlace() throws IOException {
        try (UnixPair pair = new UnixPair(); FileChannel channel = FileChannel.open(file)) {
            WriteQueue queue = newQueue();
            byte[] head = random(300, 3);
            byte[] tail = random(200, 4);
            queue.add(ByteBuffer.wrap(head));
            queue.addFile(open(), null, 1000, 5000); // sendfile from an fd the queue owns
            queue.add(ByteBuffer.wrap(tail)); // a new chunk: it must not join `head`'s
            queue.addFile(-1, channel, 7, 3000); // through the bounce buffer
            assertEquals(300 + 5000 + 200 + 3000, queue.bytes());
            assertEquals(2, openRegionFds(), "the owned fd and the channel's");

            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 16));
            assertEquals(4, queue.lastCalls()); // send, sendfile, send, send (bounce)
            assertEquals(1, openRegionFds(), "the owned fd is closed once its region is sent");
            assertArrayEquals(concat(head, Arrays.copyOfRange(fileBytes, 1000, 6000), tail,
                    Arrays.copyOfRange(fileBytes, 7, 3007)), pair.readAll());
        }
    }

    /**
     * Bytes queued right in front of a file region (a response head before its file) leave with MSG_MORE, so that
     * the kernel holds their partial segment for the file's first bytes; only when the same flush has a call left
     * for the file (held bytes must never wait for a later event), and never in front of an empty region or of more
     * bytes. (AF_UNIX ignores the flag; the queue counts the sends it flagged.)
     */
    @Test
    @Timeout(10)
    void bytesInFrontOfAFileRegionLeaveWithMsgMore() throws IOException {
        try (UnixPair pair = new UnixPair()) {
            WriteQueue queue = newQueue();
            byte[] head = random(300, 21);
            byte[] region = Arrays.copyOfRange(fileBytes, 0, 5000);

            queue.add(ByteBuffer.wrap(head));
            queue.addFile(open(), null, 0, 5000);
            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 16));
            assertEquals(2, queue.lastCalls(), "send (MSG_MORE), sendfile");
            assertEquals(1, queue.moreSends);
            assertArrayEquals(concat(head, region), pair.readAll());

            queue.add(ByteBuffer.wrap(head));
            queue.addFile(open(), null, 0, 5000);
            assertEquals(WriteQueue.YIELDED, queue.flush(pair.writer, 1));
            assertEquals(1, queue.moreSends, "no call left for the file in this flush: the head is not held");
            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 16));
            assertArrayEquals(concat(head, region), pair.readAll());

            byte[] tail = random(100, 22);
            queue.add(ByteBuffer.wrap(head));
            queue.addFile(open(), null, 0, 0); // nothing of the file follows
            queue.add(ByteBuffer.wrap(tail));
            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 16));
            assertEquals(1, queue.moreSends, "neither in front of an empty region nor of more bytes");
            assertArrayEquals(concat(head, tail), pair.readAll());
        }
    }

    /**
     * A {@code Rights} entry waits behind the bytes queued before it, then its fds leave with one sendmsg together with
     * the chunks behind it (the message's and what was written after it); the queue's dup is closed once sent.
     */
    @Test
    @Timeout(10)
    void fdsLeaveWithTheFirstByteOfTheirMessageBehindEarlierBytes() throws IOException {
        try (UnixPair pair = new UnixPair()) {
            int[] pipe = Fds.pipe();
            try {
                int dup = LibC.fcntl(pipe[1], LibC.F_DUPFD_CLOEXEC, 0);
                assertTrue(dup >= 0);
                WriteQueue queue = newQueue();
                byte[] head = random(300, 11);
                queue.add(ByteBuffer.wrap(head));
                queue.addWithRights(ByteBuffer.wrap(new byte[] {'M'}), new int[] {dup});
                queue.add(ByteBuffer.wrap(new byte[] {'t'}));
                assertEquals(302, queue.bytes());

                assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 16));
                assertEquals(2, queue.lastCalls(), "the head's send, then one sendmsg with the fds");
                assertEquals(-1, LibC.fcntl(dup, LibC.F_GETFD, 0), "the queue closed its dup once sent");
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                int[] fds = new int[0];
                while (got.size() < 302) {
                    int[] more = pair.receiveWithFds(got);
                    if (more.length > 0) {
                        assertEquals(0, fds.length, "fds came once");
                        fds = more;
                        assertTrue(got.size() > 300, "fds came with the read holding 'M', at " + got.size());
                    }
                }
                assertEquals(1, fds.length);
                assertArrayEquals(concat(head, new byte[] {'M', 't'}), got.toByteArray());
                Fds.close(fds[0]);
            } finally {
                Fds.close(pipe[0], pipe[1]);
            }
        }
    }

    /** A full socket keeps a {@code Rights} entry (and its fds) whole; {@code clear()} closes its fds. */
    @Test
    @Timeout(10)
    void aRightsEntryWaitsOnAFullSocketAndClearClosesItsFds() throws IOException {
        try (UnixPair pair = new UnixPair(4096)) {
            int[] pipe = Fds.pipe();
            try {
                int dup = LibC.fcntl(pipe[1], LibC.F_DUPFD_CLOEXEC, 0);
                long filler = pair.fill();
                WriteQueue queue = newQueue();
                queue.addWithRights(ByteBuffer.wrap(new byte[] {'M'}), new int[] {dup});
                assertEquals(WriteQueue.FULL, queue.flush(pair.writer, 16));
                assertEquals(1, queue.bytes());
                assertTrue(LibC.fcntl(dup, LibC.F_GETFD, 0) >= 0, "still the queue's, still open");
                queue.clear();
                assertEquals(-1, LibC.fcntl(dup, LibC.F_GETFD, 0), "clear() closed it");
                pair.skip(filler);
            } finally {
                Fds.close(pipe[0], pipe[1]);
            }
        }
    }

    @Test
    @Timeout(10)
    void budgetOneMakesOneCallPerFlush() throws IOException {
        try (UnixPair pair = new UnixPair()) {
            WriteQueue queue = newQueue();
            queue.add(ByteBuffer.wrap(new byte[] {1, 2}));
            queue.addFile(open(), null, 0, 3);
            queue.add(ByteBuffer.wrap(new byte[] {3}));

            assertEquals(WriteQueue.YIELDED, queue.flush(pair.writer, 1)); // the chunk
            assertEquals(1, queue.lastCalls());
            assertEquals(4, queue.bytes());
            assertEquals(WriteQueue.YIELDED, queue.flush(pair.writer, 1)); // the region; the last chunk waits
            assertEquals(1, queue.lastCalls());
            assertEquals(1, queue.bytes());
            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 1));
            assertEquals(1, queue.lastCalls());
            assertEquals(1, queue.maxCalls);
            assertArrayEquals(new byte[] {1, 2, fileBytes[0], fileBytes[1], fileBytes[2], 3}, pair.readAll());
        }
    }

    @Test
    @Timeout(10)
    void aFullSocketMakesFlushReturnFullAndKeepEveryByte() throws IOException {
        try (UnixPair pair = new UnixPair(4096)) {
            long filler = pair.fill();
            WriteQueue queue = newQueue();
            byte[] data = random(20_000, 5);
            queue.add(ByteBuffer.wrap(data));

            assertEquals(WriteQueue.FULL, queue.flush(pair.writer, 16));
            assertEquals(1, queue.lastCalls(), "EAGAIN ends the flush at once");
            assertEquals(data.length, queue.bytes());

            pair.skip(filler);
            assertArrayEquals(data, drain(queue, pair, 16));
        }
    }

    @Test
    @Timeout(10)
    void clearReleasesChunksAndClosesOwnedFiles() throws IOException {
        try (UnixPair pair = new UnixPair(4096)) {
            pair.fill();
            WriteQueue queue = newQueue();
            queue.add(ByteBuffer.wrap(random(3 * CHUNK, 6)));
            queue.addFile(open(), null, 0, 100);
            queue.addFile(open(), null, 100, 100);
            assertEquals(WriteQueue.FULL, queue.flush(pair.writer, 16));
            assertEquals(2, openRegionFds());

            queue.clear();
            assertTrue(queue.isEmpty());
            assertEquals(0, queue.bytes());
            assertEquals(0, openRegionFds());
            assertEquals(WriteQueue.DRAINED, queue.flush(pair.writer, 16));
        }
    }

    @Test
    @Timeout(10)
    void aRegionPastTheEndOfTheFileFailsNamingIt() throws IOException {
        try (UnixPair pair = new UnixPair(); FileChannel channel = FileChannel.open(file)) {
            WriteQueue fromFd = newQueue();
            fromFd.addFile(open(), null, FILE_SIZE - 10, 20);
            EpollException e = assertThrows(EpollException.class, () -> fromFd.flush(pair.writer, 16));
            assertEquals(Errno.EIO, e.errno());
            assertTrue(e.getMessage().startsWith("sendfile(fd=" + pair.writer + "): file ended 10 bytes before"),
                    e.getMessage());

            WriteQueue fromChannel = newQueue();
            fromChannel.addFile(-1, channel, FILE_SIZE - 10, 20);
            e = assertThrows(EpollException.class, () -> fromChannel.flush(pair.writer, 16));
            assertEquals(Errno.EIO, e.errno());
            assertTrue(e.getMessage().contains("file ended at " + FILE_SIZE + ", region ends at " + (FILE_SIZE + 10)),
                    e.getMessage());
            fromFd.clear();
            assertEquals(1, openRegionFds(), "clear closed the owned fd (the channel's is left)");
        }
    }

    @Test
    @Timeout(10)
    void aSendErrorNamesTheCallTheFdAndTheErrno() {
        UnixPair pair = new UnixPair();
        try {
            pair.closeReader();
            WriteQueue queue = newQueue();
            queue.add(ByteBuffer.wrap(new byte[10]));
            EpollException e = assertThrows(EpollException.class, () -> queue.flush(pair.writer, 16));
            assertEquals(Errno.EPIPE, e.errno());
            assertTrue(e.getMessage().contains("send(fd=" + pair.writer + ", 10 bytes)"), e.getMessage());
            queue.clear();
        } finally {
            pair.close();
        }
    }

    // ------------------------------------------------------------------ the property

    enum Kind { ADD, ADD_FILE, FLUSH, READ, CLEAR }

    /** One step; {@code a}, {@code b} and {@code flag} mean what {@link #toString} shows. */
    record Op(Kind kind, int a, int b, boolean flag) {
        static Op of(int kind, int a, int b, boolean flag) {
            Kind k = kind < 35 ? Kind.ADD : kind < 50 ? Kind.ADD_FILE : kind < 75 ? Kind.FLUSH : kind < 97 ? Kind.READ
                    : Kind.CLEAR;
            return switch (k) {
                case ADD -> new Op(k, a % (CHUNK + 1), b % 8, flag); // size, padding around it, direct
                case ADD_FILE -> {
                    int position = a % FILE_SIZE;
                    yield new Op(k, position, 1 + b % Math.min(64 * 1024, FILE_SIZE - position), flag); // owned fd?
                }
                case FLUSH -> new Op(k, 1 + a % 8, 0, false); // budget
                case READ -> new Op(k, 1 + a % 70_000, 0, false); // at most
                case CLEAR -> new Op(k, 0, 0, false);
            };
        }

        @Override
        public String toString() {
            return switch (kind) {
                case ADD -> "add(" + a + (flag ? " direct" : " heap") + ")";
                case ADD_FILE -> "addFile(" + a + "+" + b + (flag ? " fd" : " channel") + ")";
                case FLUSH -> "flush(budget " + a + ")";
                case READ -> "read(" + a + ")";
                case CLEAR -> "clear()";
            };
        }
    }

    static Gen<List<Op>> ops() {
        int big = 1 << 20;
        Gen<Op> op = integers().between(0, 99).zip(integers().between(0, big), integers().between(0, big),
                booleans().all(), Op::of);
        return lists().of(op).ofSizeBetween(1, 40);
    }

    /**
     * Random sequences of add (heap and direct buffers, random sizes and positions), addFile (an fd the queue owns,
     * or a FileChannel), flush (random budget), partial reads by the peer and clear, against a model: the peer reads
     * exactly the bytes added (less those clear dropped), in order; {@code bytes()} is always what was added less
     * what the socket took; a flush makes at most its budget of calls and returns DRAINED exactly when the queue is
     * empty afterwards, YIELDED only after making its budget of calls, FULL only when the socket is full (poll says
     * it is not writable); an owned fd is open exactly until its region is sent or cleared; every chunk goes back to
     * the context's pool.
     */
    @Test
    @Timeout(300)
    void aRandomSequenceOfWritesFlushesAndReadsMatchesTheModel() throws IOException {
        int[] outcomes = new int[3];
        try (FileChannel channel = FileChannel.open(file)) {
            qt(200, 500).forAll(ops(), integers().between(1, 64)).checkAssert((ops, sndbufKiB) -> run(() -> {
                // The pool holds POOL_CHECK chunks, the queue takes from it; afterwards it must hold the same ones (a
                // chunk not given back leaves a hole a new chunk fills; a chunk allocated instead of taken shows too).
                Set<NetContext.Chunk> pooled = Collections.newSetFromMap(new IdentityHashMap<>());
                pooled.addAll(takeChunks(POOL_CHECK));
                long direct = ctx.directMemoryBytes();
                new Model(channel, sndbufKiB * 1024, outcomes).run(ops);
                assertTrue(pooled.containsAll(takeChunks(POOL_CHECK)),
                        "the pool lost chunks or the queue allocated new ones");
                assertEquals(direct, ctx.directMemoryBytes(), "the reactor's direct memory grew");
            }));
        }
        System.out.println("[property] flushes: " + outcomes[WriteQueue.DRAINED] + " DRAINED, "
                + outcomes[WriteQueue.FULL] + " FULL, " + outcomes[WriteQueue.YIELDED] + " YIELDED");
    }

    /** More chunks than any example holds at once (40 steps, at most two new chunks per add); the pool keeps 256. */
    private static final int POOL_CHECK = 128;

    private List<NetContext.Chunk> takeChunks(int n) {
        List<NetContext.Chunk> taken = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            taken.add(ctx.takeChunk());
        }
        for (int i = n - 1; i >= 0; i--) {
            ctx.releaseChunk(taken.get(i)); // in reverse, so the pool keeps its order
        }
        return taken;
    }

    private final class Model {
        final FileChannel channel;
        final int sndbuf;
        final int[] outcomes;
        final WriteQueue queue = newQueue();
        byte[] stream = new byte[1024];
        /** Bytes added (less those clear dropped), and bytes the peer read. */
        long added;
        long received;
        /** Owned fds of regions not yet sent, with the stream offset where each region ends. */
        final List<long[]> ownedFds = new ArrayList<>();

        Model(FileChannel channel, int sndbuf, int[] outcomes) {
            this.channel = channel;
            this.sndbuf = sndbuf;
            this.outcomes = outcomes;
        }

        void run(List<Op> ops) throws IOException {
            try (UnixPair pair = new UnixPair(sndbuf)) {
                try {
                    for (int i = 0; i < ops.size(); i++) {
                        Op op = ops.get(i);
                        String where = "step " + i + " " + op + " of " + ops;
                        step(pair, op, where);
                        check(pair, where);
                    }
                    // The end: everything added arrives, in order.
                    byte[] rest = drain(queue, pair, 16);
                    receive(rest, 0, rest.length, "the final drain");
                    assertEquals(added, received, "bytes received in all");
                    check(pair, "after the final drain");
                } finally {
                    queue.clear();
                }
            }
        }

        void step(UnixPair pair, Op op, String where) throws IOException {
            switch (op.kind()) {
                case ADD -> {
                    byte[] data = random(op.a(), added);
                    int pad = op.b();
                    ByteBuffer b = op.flag() ? ByteBuffer.allocateDirect(op.a() + 2 * pad)
                            : ByteBuffer.allocate(op.a() + 2 * pad);
                    b.position(pad).put(data).position(pad).limit(pad + op.a());
                    long before = queue.bytes();
                    queue.add(b);
                    assertEquals(pad + op.a(), b.position(), () -> where + ": add consumed the buffer");
                    assertEquals(before + op.a(), queue.bytes(), where);
                    append(data, 0, data.length);
                }
                case ADD_FILE -> {
                    int position = op.a();
                    int count = op.b();
                    if (op.flag()) {
                        int fd = open();
                        queue.addFile(fd, null, position, count);
                        ownedFds.add(new long[] {fd, added + count});
                    } else {
                        queue.addFile(-1, channel, position, count);
                    }
                    append(fileBytes, position, count);
                }
                case FLUSH -> {
                    int budget = op.a();
                    boolean wasEmpty = queue.isEmpty();
                    int r = queue.flush(pair.writer, budget);
                    int calls = queue.lastCalls();
                    if (r >= 0 && r < outcomes.length) {
                        outcomes[r]++;
                    }
                    assertTrue(calls <= budget, () -> where + ": " + calls + " calls");
                    switch (r) {
                        case WriteQueue.DRAINED -> {
                            assertTrue(queue.isEmpty(), () -> where + ": DRAINED but not empty");
                            assertEquals(0, queue.bytes(), where);
                        }
                        case WriteQueue.YIELDED -> {
                            assertEquals(budget, calls, () -> where + ": YIELDED before the budget was spent");
                            assertFalse(queue.isEmpty(), () -> where + ": YIELDED with nothing left");
                        }
                        case WriteQueue.FULL -> {
                            assertFalse(queue.isEmpty(), () -> where + ": FULL with nothing left");
                            assertFalse(pair.writable(), () -> where + ": FULL but the socket is writable");
                        }
                        default -> fail(where + ": flush returned " + r);
                    }
                    if (wasEmpty) {
                        assertEquals(0, calls, () -> where + ": calls on an empty queue");
                    }
                }
                case READ -> {
                    byte[] got = pair.read(op.a());
                    receive(got, 0, got.length, where);
                }
                case CLEAR -> {
                    long sent = added - queue.bytes();
                    queue.clear();
                    assertTrue(queue.isEmpty(), where);
                    added = sent; // what was not sent is gone
                    ownedFds.clear();
                }
            }
        }

        /** The invariants that hold between any two steps. */
        void check(UnixPair pair, String where) throws IOException {
            long sent = received + pair.unread();
            assertEquals(added - sent, queue.bytes(), () -> where + ": bytes() is not added - sent");
            assertEquals(queue.bytes() == 0, queue.isEmpty(), where);
            ownedFds.removeIf(f -> f[1] <= sent); // a region's fd is closed as soon as its last byte is sent
            assertEquals(ownedFds.size() + 1, openRegionFds(), () -> where + ": open fds of the file (the channel and "
                    + ownedFds.stream().map(f -> String.valueOf(f[0])).collect(Collectors.joining(", ")) + ")");
        }

        void append(byte[] src, int off, int len) {
            if (added + len > stream.length) {
                stream = Arrays.copyOf(stream, (int) Math.max(added + len, stream.length * 2L));
            }
            System.arraycopy(src, off, stream, (int) added, len);
            added += len;
        }

        void receive(byte[] got, int off, int len, String where) {
            assertTrue(received + len <= added, () -> where + ": received more than was added");
            int m = Arrays.mismatch(got, off, off + len, stream, (int) received, (int) received + len);
            if (m >= 0) {
                fail(where + ": byte " + (received + m) + " of the stream is " + got[off + m] + ", expected "
                        + stream[(int) received + m]);
            }
            received += len;
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Reads and flushes until the queue is empty and the peer has read everything; returns what it read. */
    private static byte[] drain(WriteQueue queue, UnixPair pair, int budget) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(pair.readAll());
        for (int round = 0; !queue.isEmpty(); round++) {
            assertTrue(round < 1_000_000, "the queue never drained");
            queue.flush(pair.writer, budget);
            out.writeBytes(pair.readAll());
        }
        out.writeBytes(pair.readAll());
        return out.toByteArray();
    }

    /** msg_iovlen of the msghdr the last gathering sendmsg used (NetContext keeps it between calls). */
    private int iovecsOfTheLastSendmsg() {
        return (int) ctx.iov.getLong(NetContext.MAX_IOV * MsgHdr.IOVEC_SIZE + MsgHdr.MSG_IOVLEN);
    }

    /** Opens the file read-only: an fd for {@link WriteQueue#addFile} to own. */
    private int open() {
        int fd = LibC.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        assertTrue(fd >= 0, () -> "open: " + Errno.describe(LibC.errno()));
        return fd;
    }

    /** How many of this process's fds are open on the region file. */
    private int openRegionFds() throws IOException {
        String target = file.toString();
        return (int) FdLeakCheck.openFds().values().stream().filter(target::equals).count();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
