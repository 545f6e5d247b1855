package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.BlockingConnectionTest.async;
import static org.epoll4j.net.BlockingConnectionTest.await;
import static org.epoll4j.net.BlockingConnectionTest.awaitNoHandlerRunning;
import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Fd passing (SCM_RIGHTS) through the blocking facade over real Unix-domain connections:
 * {@link BlockingConnection#writeWithFileDescriptors} and {@link BlockingConnection#takeFileDescriptors}, between a
 * view and a callback connection both ways and between two views; order behind staged and queued bytes; fds a
 * reader does not take are closed with the view (the service's too), a peer flooding fds fails the connection at the
 * limit; refusals on TLS, TCP, without the option and for bad arguments.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class BlockingFdPassingTest {
    private static final ConnectionConfig RECEIVING = ConnectionConfig.defaults().withFileDescriptorPassing(true);

    @TempDir
    Path dir;
    private Loop loop;
    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private Set<Integer> baseline;

    @BeforeEach
    void start() throws Exception {
        loop = Loop.start("blocking-fds");
        baseline = FdLeakCheck.openFds().keySet();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            closeAfter.get(i).close();
        }
        for (AutoCloseable c : closeAfter) {
            if (c instanceof TcpServer s) {
                s.closeFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        }
        loop.barrier();
        // every socket, pipe, file and dup of the test is gone (the JDK may open fds of its own meanwhile, e.g. the
        // virtual-thread poller's epoll instances on JDK 25: not counted)
        awaitUntil(() -> ours(baseline).isEmpty(), "fds back to the baseline: left " + ours(baseline));
        loop.close();
        assertEquals(List.of(), loop.failures);
    }

    // ------------------------------------------------------------------ helpers

    /** The sockets, pipes and files of this test's directory opened since {@code before}: what a test may leak. */
    private java.util.Map<Integer, String> ours(Set<Integer> before) {
        java.util.Map<Integer, String> open = FdLeakCheck.openFds();
        open.keySet().removeAll(before);
        open.values().removeIf(t -> !t.startsWith("socket:") && !t.startsWith("pipe:") && !t.startsWith(dir.toString()));
        return open;
    }

    /** How many open fds refer to what {@code fd} refers to (its /proc/self/fd link target). */
    private static long sameAs(int fd) {
        String target = FdLeakCheck.openFds().get(fd);
        assertNotNull(target, "fd " + fd + " is not open");
        return FdLeakCheck.openFds().values().stream().filter(target::equals).count();
    }

    private UnixDomainSocketAddress address(String name) {
        return UnixDomainSocketAddress.of(dir.resolve(name));
    }

    private TcpServer server(SocketAddress at, ConnectionConfig config, ConnectionHandler handler) throws Exception {
        TcpServer s = TcpServer.builder(loop.reactor).bind(at).config(config).handler(handler).start();
        closeAfter.add(s);
        return s;
    }

    private TcpServer service(SocketAddress at, ConnectionConfig config, BlockingService service) throws Exception {
        TcpServer s = TcpServer.builder(loop.reactor).bind(at).config(config).handlerFactory(service).start();
        closeAfter.add(s);
        return s;
    }

    private BlockingConnection view(SocketAddress to, ConnectionConfig config) throws IOException {
        BlockingConnection v = BlockingConnection.connect(TcpClient.builder(loop.reactor).remote(to).config(config),
                seconds(10));
        closeAfter.add(v);
        return v;
    }

    private Connection callback(SocketAddress to, ConnectionConfig config, ConnectionHandler h) throws Exception {
        Connection c = TcpClient.builder(loop.reactor).remote(to).config(config).handler(h).connect()
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        closeAfter.add(c::close);
        return c;
    }

    private int[] pipe() {
        int[] p = Fds.pipe();
        closeAfter.add(() -> Fds.close(p));
        return p;
    }

    private int openFile(String name, String content) throws IOException {
        int fd = FileDescriptors.openReadOnly(Files.writeString(dir.resolve(name), content));
        closeAfter.add(() -> LibC.close(fd));
        return fd;
    }

    /** What the pipe's read end holds now (the pipe is non-blocking: write before reading). */
    private static String readPipe(int fd) throws EpollException {
        ByteBuffer b = NativeMemory.allocate(1000);
        long n = LibC.read(fd, NativeMemory.address(b), 1000);
        if (n < 0) {
            throw new EpollException("read(" + fd + ")", LibC.errno());
        }
        byte[] out = new byte[(int) n];
        b.get(0, out);
        return new String(out, StandardCharsets.UTF_8);
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static String readAscii(BlockingConnection v, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        v.readFully(b);
        return new String(b.array(), StandardCharsets.US_ASCII);
    }

    private static void closeAll(int... fds) {
        for (int fd : fds) {
            LibC.close(fd);
        }
    }

    // ------------------------------------------------------------------ across

    /**
     * A view and a callback connection, both ways: the view passes an open file and a pipe's write end (closing its
     * own at once) and the callback side reads the file and writes into the pipe; the callback side passes two
     * messages back, and the view's reader takes each message's fds after reading its first byte, one message per
     * call, none before.
     */
    @Test
    void aFileAndAPipeGoAcrossBetweenAViewAndACallbackConnectionBothWays() throws Exception {
        FdPassingTest.Receiver receiver = new FdPassingTest.Receiver(false);
        TcpServer server = server(address("a.sock"), RECEIVING, receiver);
        BlockingConnection v = view(server.localAddress(), RECEIVING);
        Connection serverSide = receiver.nextOpen();
        int file = openFile("to-callback.txt", "the view's file");
        int[] pipe = pipe();

        // view -> callback; the caller closes its fds as soon as the call returns (the library sends its own dups)
        int myFile = dup(file);
        int myPipe = dup(pipe[1]);
        v.writeWithFileDescriptors(ascii("FD"), myFile, myPipe);
        closeAll(myFile, myPipe);
        FdPassingTest.Arrival a = receiver.nextFds();
        try {
            assertEquals(2, a.fds().length);
            assertEquals(0, a.bytesBefore());
            assertEquals("the view's file", Files.readString(FileDescriptors.procPath(a.fds()[0])));
            Fds.writeFully(a.fds()[1], "through the pipe".getBytes(StandardCharsets.UTF_8));
            assertEquals("through the pipe", readPipe(pipe[0]));
        } finally {
            closeAll(a.fds());
        }
        awaitUntil(() -> receiver.received == 2, "the message's bytes");
        assertEquals("FD", new String(receiver.bytes(), StandardCharsets.US_ASCII));

        // callback -> view: two messages, 1 fd then 2, behind a plain byte
        int back = openFile("to-view.txt", "the callback side's file");
        int[] pipe2 = pipe();
        assertArrayEquals(new int[0], v.takeFileDescriptors(), "nothing arrived yet");
        loop.call(() -> {
            serverSide.write(ascii("x"));
            serverSide.writeWithFileDescriptors(ascii("A"), back);
            serverSide.writeWithFileDescriptors(ascii("B"), pipe2[1], back);
            return null;
        });
        awaitUntil(() -> v.available() == 3 && v.heldFdCount() == 3, "both messages at the view");
        assertArrayEquals(new int[0], v.takeFileDescriptors(), "nothing read yet: nothing to take");
        assertEquals("x", readAscii(v, 1));
        assertEquals("A", readAscii(v, 1));
        int[] first = v.takeFileDescriptors();
        assertEquals(1, first.length, "message A's fd, and only it");
        try {
            assertEquals("the callback side's file", Files.readString(FileDescriptors.procPath(first[0])));
        } finally {
            closeAll(first);
        }
        assertEquals("B", readAscii(v, 1));
        int[] second = v.takeFileDescriptors();
        try {
            assertEquals(2, second.length, "message B's fds");
            Fds.writeFully(second[0], "back".getBytes(StandardCharsets.UTF_8));
            assertEquals("back", readPipe(pipe2[0]));
            assertEquals("the callback side's file", Files.readString(FileDescriptors.procPath(second[1])));
        } finally {
            closeAll(second);
        }
        assertArrayEquals(new int[0], v.takeFileDescriptors());
        assertEquals(0, v.heldFdCount());
        v.close();
        assertNull(receiver.nextClose().cause());
    }

    private static int dup(int fd) {
        int d = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
        assertTrue(d >= 0, "dup");
        return d;
    }

    /**
     * View to view, through a {@link BlockingService}: the client passes a file and a pipe with a request; the
     * handler reads the request's first byte, takes the fds, answers through the pipe and passes a file of its own
     * back with its reply, which the client takes likewise.
     */
    @Test
    void viewToViewThroughABlockingService() throws Exception {
        int served = openFile("served.txt", "the handler's file");
        CompletableFuture<String> handlerSaw = new CompletableFuture<>();
        BlockingService service = BlockingService.of(conn -> {
            try {
                assertEquals("Q", readAscii(conn, 1));
                int[] got = conn.takeFileDescriptors();
                try {
                    assertEquals(2, got.length);
                    String content = Files.readString(FileDescriptors.procPath(got[0]));
                    Fds.writeFully(got[1], ("read: " + content).getBytes(StandardCharsets.UTF_8));
                    handlerSaw.complete(content + "|" + readAscii(conn, 4));
                } finally {
                    closeAll(got);
                }
                conn.writeWithFileDescriptors(ascii("Rply"), served);
                assertEquals(-1, conn.read(new byte[1], 0, 1)); // the client's close
            } catch (Throwable t) {
                handlerSaw.completeExceptionally(t);
                throw t;
            }
        });
        TcpServer server = service(address("v.sock"), RECEIVING, service);
        BlockingConnection v = view(server.localAddress(), RECEIVING);
        int file = openFile("request.txt", "the client's file");
        int[] pipe = pipe();
        v.writeWithFileDescriptors(ascii("Q"), file, pipe[1]);
        v.write(ascii("uery"));
        assertEquals("the client's file|uery", handlerSaw.get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals("read: the client's file", readPipe(pipe[0]));
        assertEquals("R", readAscii(v, 1));
        int[] got = v.takeFileDescriptors();
        try {
            assertEquals(1, got.length);
            assertEquals("the handler's file", Files.readString(FileDescriptors.procPath(got[0])));
        } finally {
            closeAll(got);
        }
        assertEquals("ply", readAscii(v, 3));
        v.shutdownOutput();
        awaitNoHandlerRunning(service);
    }

    // ------------------------------------------------------------------ order

    /**
     * The view's fd message goes behind a large write still staged in the view (the loop is held while both calls
     * are made, so nothing was handed over yet) and before the write after it: a paused callback receiver then sees
     * every byte in order and the fds with the read holding the message's first byte. The sender has no fd option
     * (sending needs none).
     */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void aViewsFdMessageKeepsItsPlaceBehindAStagedWrite(TriggerMode mode) throws Exception {
        int before = 3 << 20;
        byte[] head = bytes(11, 0, before);
        byte[] message = "<fd message>".getBytes(StandardCharsets.US_ASCII);
        byte[] tail = bytes(12, 0, 100_000);
        FdPassingTest.Receiver receiver = new FdPassingTest.Receiver(true);
        TcpServer server = server(address("o.sock"), RECEIVING.withTrigger(mode), receiver);
        // a high watermark above the head: write() stages all of it and returns without waiting
        BlockingConnection v = view(server.localAddress(),
                ConnectionConfig.defaults().withTrigger(mode).withWriteWatermarks(4 << 20, 8 << 20));
        Connection serverSide = receiver.nextOpen();
        int[] pipe = pipe();
        CountDownLatch release = new CountDownLatch(1);
        loop.reactor.execute(() -> {
            try {
                release.await(WAIT_SECONDS, TimeUnit.SECONDS); // holds the loop: the hand-offs wait
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        BlockingConnectionTest.Watch watch = new BlockingConnectionTest.Watch();
        v.probe = watch;
        CompletableFuture<Thread> writer = new CompletableFuture<>();
        CompletableFuture<Void> written = async(() -> {
            writer.complete(Thread.currentThread());
            v.write(ByteBuffer.wrap(head));
            v.writeWithFileDescriptors(ByteBuffer.wrap(message), pipe[1]); // waits for its task on the held loop
            v.write(ByteBuffer.wrap(tail));
            return null;
        });
        watch.awaitParked(writer.get(WAIT_SECONDS, TimeUnit.SECONDS), "writeWithFileDescriptors", written);
        release.countDown();
        await(written);
        serverSide.resumeReading();
        FdPassingTest.Arrival a = receiver.nextFds();
        try {
            awaitUntil(() -> receiver.received == before + message.length + tail.length, "every byte");
            byte[] all = receiver.bytes();
            assertArrayEquals(head, Arrays.copyOfRange(all, 0, before));
            assertArrayEquals(message, Arrays.copyOfRange(all, before, before + message.length));
            assertArrayEquals(tail, Arrays.copyOfRange(all, before + message.length, all.length));
            assertEquals(1, a.fds().length);
            assertTrue(a.bytesBefore() <= before, "fds arrived after their message's first byte: " + a.bytesBefore());
            assertTrue(a.bytesBefore() + receiver.readWithFds.get(0) > before,
                    "fds arrived before the read holding their message's first byte: at " + a.bytesBefore() + " with "
                            + receiver.readWithFds.get(0) + " bytes; message at " + before);
            Fds.writeFully(a.fds()[0], "x".getBytes(StandardCharsets.US_ASCII));
            assertEquals("x", readPipe(pipe[0]));
        } finally {
            closeAll(a.fds());
        }
        v.close();
        assertNull(receiver.nextClose().cause());
    }

    /**
     * A callback sender queues megabytes, an fd message, and more behind a view that reads slowly (its inbound limit
     * pauses the connection). The fds are not takeable a megabyte before their message, are takeable once the
     * message's first byte was read, and every byte arrives in order.
     */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void aViewsReaderTakesFdsInOrderWithTheBytes(TriggerMode mode) throws Exception {
        int before = 3 << 20;
        byte[] head = bytes(21, 0, before);
        byte[] tail = bytes(22, 0, 100_000);
        Tracking accepted = new Tracking();
        TcpServer server = server(address("r.sock"), ConnectionConfig.defaults().withTrigger(mode), accepted);
        BlockingConnection v = view(server.localAddress(), RECEIVING.withTrigger(mode));
        Connection serverSide = accepted.nextOpen();
        int[] pipe = pipe();
        loop.call(() -> {
            serverSide.write(ByteBuffer.wrap(head));
            serverSide.writeWithFileDescriptors(ascii("M"), pipe[1]);
            serverSide.write(ByteBuffer.wrap(tail));
            return null;
        });
        ByteBuffer got = ByteBuffer.allocate(before + 1 + tail.length);
        got.limit(1 << 20);
        v.readFully(got);
        assertArrayEquals(new int[0], v.takeFileDescriptors(), "a megabyte before their message");
        got.limit(before);
        v.readFully(got);
        int[] early = v.takeFileDescriptors(); // possible: the read that brought them may begin before the message
        got.limit(before + 1);
        v.readFully(got);
        assertEquals('M', got.get(before));
        int[] fds = early.length > 0 ? early : v.takeFileDescriptors();
        try {
            assertEquals(1, fds.length, "the message's fd once its first byte was read");
            assertArrayEquals(new int[0], v.takeFileDescriptors());
            Fds.writeFully(fds[0], "y".getBytes(StandardCharsets.US_ASCII));
            assertEquals("y", readPipe(pipe[0]));
        } finally {
            closeAll(fds);
        }
        got.limit(got.capacity());
        v.readFully(got);
        assertArrayEquals(head, Arrays.copyOfRange(got.array(), 0, before));
        assertArrayEquals(tail, Arrays.copyOfRange(got.array(), before + 1, got.capacity()));
        serverSide.close();
        assertEquals(-1, v.read(ByteBuffer.allocate(1)));
    }

    // ------------------------------------------------------------------ no leaks, bounded

    /**
     * Fds a reader never takes are closed with the view: a client view that read every byte and took nothing, a
     * service handler that returns without taking, and one that throws.
     */
    @Test
    void fdsNotTakenAreClosedWithTheView() throws Exception {
        int file = openFile("f.txt", "x");
        // 1. a client view
        Tracking accepted = new Tracking();
        TcpServer server = server(address("c.sock"), ConnectionConfig.defaults(), accepted);
        BlockingConnection v = view(server.localAddress(), RECEIVING);
        Connection serverSide = accepted.nextOpen();
        assertEquals(1, sameAs(file));
        for (int i = 0; i < 3; i++) {
            serverSide.writeWithFileDescriptors(ascii("m"), file, file);
        }
        assertEquals("mmm", readAscii(v, 3));
        awaitUntil(() -> v.heldFdCount() == 6, "six fds held for the reader");
        awaitUntil(() -> sameAs(file) == 7, "the six received fds open (the sender's dups closed)");
        v.close();
        assertEquals(0, v.heldFdCount());
        assertEquals(1, sameAs(file), "the view's close closed the six");
        SocketException closed = assertThrows(SocketException.class, v::takeFileDescriptors);
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());

        // 2. handlers that return, or throw, leaving fds untaken
        for (boolean fail : new boolean[] {false, true}) {
            CompletableFuture<BlockingConnection> handled = new CompletableFuture<>();
            BlockingService service = BlockingService.of(conn -> {
                readAscii(conn, 2);
                handled.complete(conn);
                if (fail) {
                    throw new IOException("test: the handler fails");
                }
            });
            TcpServer s = service(address("s" + fail + ".sock"), RECEIVING, service);
            Tracking client = new Tracking();
            Connection c = callback(s.localAddress(), ConnectionConfig.defaults(), client);
            c.writeWithFileDescriptors(ascii("a"), file);
            c.writeWithFileDescriptors(ascii("b"), file, file, file);
            BlockingConnection handlerView = handled.get(WAIT_SECONDS, TimeUnit.SECONDS);
            awaitNoHandlerRunning(service); // the service closed the view before the count went down
            assertFalse(handlerView.isOpen());
            assertEquals(0, handlerView.heldFdCount(), "the service closed the untaken fds (fail=" + fail + ")");
        }
    }

    /**
     * A peer passing fds the reader never takes fails the connection once the view would hold more than its limit:
     * the excess is closed, the reader gets the bytes that came, then a SocketException whose cause names the limit;
     * closing the view closes what it held.
     */
    @Test
    void aPeerFloodingFdsFailsTheConnectionAtTheLimit() throws Exception {
        int file = openFile("flood.txt", "x");
        Tracking accepted = new Tracking();
        TcpServer server = server(address("f.sock"), ConnectionConfig.defaults(), accepted);
        BlockingConnection v = view(server.localAddress(), RECEIVING);
        Connection serverSide = accepted.nextOpen();
        int[] many = new int[LibC.SCM_MAX_FD];
        Arrays.fill(many, file);
        int messages = BlockingConnection.HELD_FDS_LIMIT / LibC.SCM_MAX_FD + 1; // the last one crosses the limit
        for (int i = 0; i < messages; i++) {
            serverSide.writeWithFileDescriptors(ascii("f"), many);
        }
        int read = 0;
        SocketException ended;
        while (true) {
            try {
                if (v.read(ByteBuffer.allocate(16)) < 0) {
                    fail("end of stream instead of the limit's failure");
                }
                read++;
            } catch (SocketException e) {
                ended = e;
                break;
            }
        }
        assertNotNull(ended.getCause(), ended.toString());
        assertTrue(ended.getCause().getMessage().contains("limit of " + BlockingConnection.HELD_FDS_LIMIT),
                ended.getCause().getMessage());
        assertTrue(read < messages, "the message over the limit is not delivered: " + read);
        int held = v.heldFdCount();
        assertTrue(held <= BlockingConnection.HELD_FDS_LIMIT && held >= LibC.SCM_MAX_FD, "held " + held);
        int[] taken = v.takeFileDescriptors(); // still takeable after the connection ended
        assertEquals(LibC.SCM_MAX_FD, taken.length);
        closeAll(taken);
        accepted.nextClose();
        v.close(); // the rest: checked by the baseline after the test
        assertEquals(0, v.heldFdCount());
    }

    /**
     * Like write(), the fd write waits for room: with the queue above the high watermark (a paused receiver) it ends
     * with a WRITE timeout, sends nothing and keeps no dup; once the receiver reads, it goes behind every byte.
     */
    @Test
    void waitsForRoomLikeWrite() throws Exception {
        FdPassingTest.Receiver receiver = new FdPassingTest.Receiver(true);
        TcpServer server = server(address("w.sock"), RECEIVING, receiver);
        BlockingConnection v = view(server.localAddress(), ConnectionConfig.defaults().withWriteWatermarks(4096, 8192));
        Connection serverSide = receiver.nextOpen();
        int[] pipe = pipe();
        v.writeTimeout(Duration.ofMillis(300));
        byte[] big = bytes(31, 0, 8 << 20);
        ConnectionTimeoutException full = assertThrows(ConnectionTimeoutException.class,
                () -> v.write(ByteBuffer.wrap(big)));
        int queued = full.bytesTransferred;
        assertTrue(queued > 0 && queued < big.length, "queued " + queued);
        long before = sameAs(pipe[1]);
        ConnectionTimeoutException timedOut = assertThrows(ConnectionTimeoutException.class,
                () -> v.writeWithFileDescriptors(ascii("F"), pipe[1]));
        assertEquals(ConnectionTimeoutException.Kind.WRITE, timedOut.kind());
        assertEquals(before, sameAs(pipe[1]), "no dup kept by the timed-out call");
        assertTrue(v.isOpen());
        v.writeTimeout(Duration.ZERO);
        serverSide.resumeReading();
        v.writeWithFileDescriptors(ascii("F"), pipe[1]); // waits until the receiver drained to the low watermark
        FdPassingTest.Arrival a = receiver.nextFds();
        try {
            awaitUntil(() -> receiver.received == queued + 1, "every byte");
            byte[] all = receiver.bytes();
            assertArrayEquals(Arrays.copyOf(big, queued), Arrays.copyOf(all, queued));
            assertEquals('F', all[queued]);
            assertTrue(a.bytesBefore() <= queued && a.bytesBefore() + receiver.readWithFds.get(0) > queued, "fds at " + a.bytesBefore());
            assertTrue(receiver.fds.isEmpty(), "the timed-out call sent nothing");
        } finally {
            closeAll(a.fds());
        }
        v.close();
        assertNull(receiver.nextClose().cause());
    }

    // ------------------------------------------------------------------ refusals

    /** Refused where fds cannot go or never arrive, and for bad arguments, with clear errors and no dup left. */
    @Test
    void refusedOnTlsTcpWithoutTheOptionAndForBadArguments() throws Exception {
        int[] pipe = pipe();
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        Tracking accepted = new Tracking();
        TlsTestKit kit = TlsTestKit.get();
        TcpServer tls = TcpServer.builder(loop.reactor).bind(loopback).tls(TlsConfig.server(kit.serverContext()))
                .config(RECEIVING).handler(accepted).start();
        closeAfter.add(tls);
        BlockingConnection t = BlockingConnection.connect(TcpClient.builder(loop.reactor).remote(tls.localAddress())
                .tls(TlsConfig.client(kit.clientContext())).config(RECEIVING), seconds(10));
        closeAfter.add(t);
        BlockingConnection tcp = view(server(loopback, RECEIVING, accepted).localAddress(), RECEIVING);
        BlockingConnection plain = view(server(address("p.sock"), RECEIVING, accepted).localAddress(),
                ConnectionConfig.defaults());
        BlockingConnection u = view(server(address("u.sock"), RECEIVING, accepted).localAddress(), RECEIVING);
        for (int i = 0; i < 4; i++) {
            accepted.nextOpen(); // every server side is open
        }
        long before = sameAs(pipe[1]);

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> t.writeWithFileDescriptors(ascii("x"), pipe[1]));
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
        e = assertThrows(IllegalStateException.class, t::takeFileDescriptors);
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> tcp.writeWithFileDescriptors(ascii("x"), pipe[1]));
        assertTrue(e.getMessage().contains("AF_INET") && e.getMessage().contains("AF_UNIX"), e.getMessage());
        e = assertThrows(IllegalStateException.class, plain::takeFileDescriptors);
        assertTrue(e.getMessage().contains("withFileDescriptorPassing"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> u.writeWithFileDescriptors(ByteBuffer.allocate(0), pipe[1]));
        assertThrows(IllegalArgumentException.class, () -> u.writeWithFileDescriptors(ascii("x")));
        assertThrows(IllegalArgumentException.class,
                () -> u.writeWithFileDescriptors(ascii("x"), new int[LibC.SCM_MAX_FD + 1]));
        EpollException bad = assertThrows(EpollException.class,
                () -> u.writeWithFileDescriptors(ascii("x"), pipe[1], -1));
        assertEquals(Errno.EBADF, bad.errno());
        assertTrue(bad.getMessage().contains("fds[1]=-1"), bad.getMessage());
        assertEquals(before, sameAs(pipe[1]), "no dup left behind by the refusals");
        assertTrue(u.isOpen() && tcp.isOpen() && t.isOpen(), "a refusal leaves the connection open");

        u.close();
        SocketException closed = assertThrows(SocketException.class,
                () -> u.writeWithFileDescriptors(ascii("x"), pipe[1]));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        java.util.concurrent.ExecutionException onLoop = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> loop.call(() -> {
                    u.writeWithFileDescriptors(ascii("x"), pipe[1]);
                    return null;
                }));
        assertInstanceOf(IllegalStateException.class, onLoop.getCause(), "a blocking call on the loop");
    }
}
