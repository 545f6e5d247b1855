package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.MmsgHdr;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
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
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Passing file descriptors (SCM_RIGHTS) over real Unix-domain connections, both ends epoll4j:
 * {@link Connection#writeWithFileDescriptors}, {@link ConnectionConfig#withFileDescriptorPassing} and
 * {@link ConnectionHandler#onFileDescriptors}.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class FdPassingTest {
    private static final ConnectionConfig RECEIVING = ConnectionConfig.defaults().withFileDescriptorPassing(true);

    @TempDir
    Path dir;

    /** One fds-then-bytes event as the receiver saw it: the fds, and how many bytes it had been given before. */
    record Arrival(int[] fds, long bytesBefore) {
    }

    /** Records every byte in order and every batch of fds with the stream position it came at; keeps the fds. */
    static class Receiver extends Tracking {
        final BlockingQueue<Arrival> fds = new LinkedBlockingQueue<>();
        final ByteArrayOutputStream stream = new ByteArrayOutputStream();
        /** The length of the first onData right after each onFileDescriptors, in arrival order. */
        final List<Integer> readWithFds = new java.util.concurrent.CopyOnWriteArrayList<>();
        private boolean fdsPending;
        volatile long received;
        final boolean pauseOnOpen;

        Receiver(boolean pauseOnOpen) {
            this.pauseOnOpen = pauseOnOpen;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            if (pauseOnOpen) {
                c.pauseReading();
            }
            super.onOpen(c);
        }

        @Override
        public void onFileDescriptors(Connection c, int[] received) {
            fds.add(new Arrival(received.clone(), stream.size()));
            fdsPending = true;
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
            if (fdsPending) {
                readWithFds.add(data.remaining());
                fdsPending = false;
            }
            byte[] b = new byte[data.remaining()];
            data.get(b);
            synchronized (stream) {
                stream.write(b, 0, b.length);
            }
            received += b.length;
        }

        byte[] bytes() {
            synchronized (stream) {
                return stream.toByteArray();
            }
        }

        Arrival nextFds() throws InterruptedException {
            Arrival a = fds.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(a, "no file descriptors arrived in time");
            return a;
        }
    }

    private UnixDomainSocketAddress address(String name) {
        return UnixDomainSocketAddress.of(dir.resolve(name));
    }

    private static Connection connect(Loop loop, java.net.SocketAddress to, ConnectionHandler h) throws Exception {
        return TcpClient.builder(loop.reactor).remote(to).handler(h).connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** pipe2(O_CLOEXEC): {read end, write end}. */
    private static int[] pipe() throws EpollException {
        ByteBuffer b = NativeMemory.allocate(8);
        if (LibC.pipe2(NativeMemory.address(b), LibC.O_CLOEXEC) != 0) {
            throw new EpollException("pipe2", LibC.errno());
        }
        return new int[] {b.getInt(0), b.getInt(4)};
    }

    private static String readFd(int fd, int max) throws EpollException {
        ByteBuffer b = NativeMemory.allocate(max);
        long n = LibC.read(fd, NativeMemory.address(b), max);
        if (n < 0) {
            throw new EpollException("read(" + fd + ")", LibC.errno());
        }
        byte[] out = new byte[(int) n];
        b.get(0, out);
        return new String(out, StandardCharsets.UTF_8);
    }

    private static void writeFd(int fd, String text) throws EpollException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = NativeMemory.allocate(bytes.length).put(0, bytes);
        if (LibC.write(fd, NativeMemory.address(b), bytes.length) != bytes.length) {
            throw new EpollException("write(" + fd + ")", LibC.errno());
        }
    }

    private static void closeAll(int... fds) {
        for (int fd : fds) {
            LibC.close(fd);
        }
    }

    private static boolean cloexec(int fd) {
        return (LibC.fcntl(fd, LibC.F_GETFD, 0) & 1) != 0;
    }

    /**
     * An open file's fd and a pipe's write end go across with one message; the sender closes its own right after
     * the call (the library sent its dups); the receiver reads the file and writes into the pipe through the fds it
     * got, and the test reads that back from the pipe's other end.
     */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void anOpenFileAndAPipeGoAcross(TriggerMode mode) throws Exception {
        Path file = Files.writeString(dir.resolve("content.txt"), "the file's content");
        Receiver receiver = new Receiver(false);
        try (Loop loop = Loop.start("fd-pass-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor).bind(address("a.sock")).config(RECEIVING.withTrigger(mode))
                    .handler(receiver).start();
            Tracking sender = new Tracking();
            Connection c = connect(loop, server.localAddress(), sender);
            int fileFd = FileDescriptors.openReadOnly(file);
            int[] pipe = pipe();
            // from the test thread (not the loop): the bytes are copied, the fds duplicated, before this returns
            c.writeWithFileDescriptors(ByteBuffer.wrap("FD".getBytes(StandardCharsets.US_ASCII)), fileFd, pipe[1]);
            closeAll(fileFd, pipe[1]); // ours to close at once: the library holds its own copies
            Arrival a = receiver.nextFds();
            try {
                assertEquals(2, a.fds().length);
                assertEquals(0, a.bytesBefore());
                for (int fd : a.fds()) {
                    assertTrue(cloexec(fd), "received fds are close-on-exec (MSG_CMSG_CLOEXEC)");
                }
                assertEquals("the file's content", Files.readString(FileDescriptors.procPath(a.fds()[0])));
                assertEquals("the file's content", readFd(a.fds()[0], 100));
                writeFd(a.fds()[1], "through the pipe");
                assertEquals("through the pipe", readFd(pipe[0], 100));
                FileDescriptors.close(a.fds()[0]);
                EpollException twice = assertThrows(EpollException.class, () -> FileDescriptors.close(a.fds()[0]));
                assertEquals(Errno.EBADF, twice.errno());
                FileDescriptors.close(a.fds()[1]);
            } catch (Throwable t) {
                closeAll(a.fds());
                throw t;
            } finally {
                LibC.close(pipe[0]);
            }
            awaitUntil(() -> receiver.received == 2, "the message's bytes");
            assertEquals("FD", new String(receiver.bytes(), StandardCharsets.US_ASCII));
            assertEquals(List.of(2), receiver.readWithFds);
            c.close();
            assertNull(sender.nextClose().cause());
            server.close();
            assertEquals(List.of(), loop.failures);
        }
    }

    /**
     * A receiver that does not read makes the sender queue; an fd message written then waits behind the queued
     * bytes (a WriteQueue entry of its own) and is followed by more. The receiver sees every byte in order, and its
     * fds with the read that holds the first byte of their message, never earlier.
     */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void anFdMessageKeepsItsPlaceBehindQueuedWrites(TriggerMode mode) throws Exception {
        int before = 3 << 20; // far beyond what the socket buffers hold
        byte[] head = bytes(7, 0, before);
        byte[] message = "<fd message>".getBytes(StandardCharsets.US_ASCII);
        byte[] tail = bytes(8, 0, 100_000);
        Receiver receiver = new Receiver(true);
        try (Loop loop = Loop.start("fd-order-" + mode)) {
            ConnectionConfig config = RECEIVING.withTrigger(mode);
            TcpServer server = TcpServer.builder(loop.reactor).bind(address("o.sock")).config(config)
                    .handler(receiver).start();
            Tracking sender = new Tracking();
            Connection c = TcpClient.builder(loop.reactor).remote(server.localAddress()).config(config)
                    .handler(sender).connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            Connection serverSide = receiver.nextOpen();
            int[] pipe = pipe();
            long queued = loop.call(() -> {
                c.write(ByteBuffer.wrap(head));
                long q = c.queuedBytes();
                ByteBuffer direct = ByteBuffer.allocateDirect(message.length).put(message).flip();
                c.writeWithFileDescriptors(direct, pipe[1]);
                c.write(ByteBuffer.wrap(tail));
                return q;
            });
            LibC.close(pipe[1]);
            assertTrue(queued > 0, "the head must still be queued when the fd message is written: " + queued);
            serverSide.resumeReading();
            Arrival a = receiver.nextFds();
            try {
                awaitUntil(() -> receiver.received == before + message.length + tail.length, "every byte");
                byte[] all = receiver.bytes();
                assertArrayEquals(head, Arrays.copyOfRange(all, 0, before));
                assertArrayEquals(message, Arrays.copyOfRange(all, before, before + message.length));
                assertArrayEquals(tail, Arrays.copyOfRange(all, before + message.length, all.length));
                assertEquals(1, a.fds().length);
                // the fds came with the read holding the message's first byte: that read started at or before it
                // (the kernel may join earlier bytes to it) and reached past it
                assertTrue(a.bytesBefore() <= before, "fds arrived after their message's first byte: " + a);
                assertTrue(a.bytesBefore() + receiver.readWithFds.get(0) > before,
                        "fds arrived before the read holding their message's first byte: at " + a.bytesBefore()
                                + " with a read of " + receiver.readWithFds.get(0) + " bytes; message at " + before);
                writeFd(a.fds()[0], "x");
                assertEquals("x", readFd(pipe[0], 10));
            } finally {
                closeAll(a.fds());
                LibC.close(pipe[0]);
            }
            c.close();
            assertNull(sender.nextClose().cause());
            server.close();
            assertEquals(List.of(), loop.failures);
        }
    }

    /**
     * Nothing leaks: a handler that ignores fds (the default closes them), a receiver without the option (the
     * kernel drops them), and a sender closing with an fd message still queued (the library closes its dups).
     */
    @Test
    void ignoredOrUnsentFdsLeakNothing() throws Exception {
        Path file = Files.writeString(dir.resolve("f.txt"), "x");
        int fileFd = FileDescriptors.openReadOnly(file);
        try (Loop loop = Loop.start("fd-leak")) {
            Set<Integer> baseline = FdLeakCheck.openFds().keySet();
            // 1. default onFileDescriptors (closes), 2. no option (the kernel drops them). The second under LEVEL:
            // a plain read(2) also ends at a message that carried fds, and EDGE would not report the bytes behind
            // it until the peer sends more (documented on withFileDescriptorPassing)
            for (ConnectionConfig receiving : List.of(RECEIVING,
                    ConnectionConfig.defaults().withTrigger(TriggerMode.LEVEL))) {
                CompletableFuture<Long> got = new CompletableFuture<>();
                long[] count = new long[1];
                ConnectionHandler ignoring = (conn, data) -> {
                    count[0] += data.remaining();
                    data.position(data.limit());
                    if (count[0] == 30) {
                        got.complete(count[0]);
                    }
                };
                TcpServer server = TcpServer.builder(loop.reactor).bind(address("l.sock")).config(receiving)
                        .handler(ignoring).start();
                Tracking sender = new Tracking();
                Connection c = connect(loop, server.localAddress(), sender);
                int[] many = new int[10];
                Arrays.fill(many, fileFd);
                for (int i = 0; i < 3; i++) {
                    c.writeWithFileDescriptors(ByteBuffer.wrap(new byte[10]), many);
                }
                assertEquals(30, got.get(WAIT_SECONDS, TimeUnit.SECONDS));
                c.close();
                assertNull(sender.nextClose().cause());
                server.close();
                server.closeFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            // 3. the sender closes with the fd message queued behind bytes a paused receiver never took
            Receiver paused = new Receiver(true);
            TcpServer server = TcpServer.builder(loop.reactor).bind(address("q.sock")).config(RECEIVING)
                    .handler(paused).start();
            Tracking sender = new Tracking();
            Connection c = connect(loop, server.localAddress(), sender);
            long queued = loop.call(() -> {
                c.write(ByteBuffer.wrap(new byte[4 << 20]));
                c.writeWithFileDescriptors(ByteBuffer.wrap(new byte[1]), fileFd, fileFd, fileFd);
                return c.queuedBytes();
            });
            assertTrue(queued > 0);
            c.closeWith(new IOException("test: give up"));
            sender.nextClose();
            paused.nextOpen().closeWith(new IOException("test: the paused side gives up too"));
            paused.nextClose();
            server.close();
            server.closeFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
            loop.barrier();
            awaitUntil(() -> FdLeakCheck.openFds().keySet().equals(baseline),
                    "fds back to the baseline: " + baseline + " now " + FdLeakCheck.openFds());
            assertTrue(paused.fds.isEmpty());
            assertEquals(List.of(), loop.failures);
        } finally {
            LibC.close(fileFd);
        }
    }

    /** 253 fds (the kernel's SCM_MAX_FD) in one message: all arrive, distinct, each a working pipe end. */
    @Test
    void theKernelsMaximumOf253FdsInOneMessage() throws Exception {
        Receiver receiver = new Receiver(false);
        try (Loop loop = Loop.start("fd-253")) {
            TcpServer server = TcpServer.builder(loop.reactor).bind(address("m.sock")).config(RECEIVING)
                    .handler(receiver).start();
            Tracking sender = new Tracking();
            Connection c = connect(loop, server.localAddress(), sender);
            int[] pipe = pipe();
            int[] same = new int[LibC.SCM_MAX_FD];
            Arrays.fill(same, pipe[1]);
            c.writeWithFileDescriptors(ByteBuffer.wrap(new byte[] {42}), same);
            LibC.close(pipe[1]);
            Arrival a = receiver.nextFds();
            try {
                assertEquals(253, a.fds().length);
                Set<Integer> distinct = new HashSet<>();
                for (int fd : a.fds()) {
                    distinct.add(fd);
                    writeFd(fd, "w");
                }
                assertEquals(253, distinct.size());
                assertEquals("w".repeat(253), readFd(pipe[0], 1000));
            } finally {
                closeAll(a.fds());
                LibC.close(pipe[0]);
            }
            assertThrows(IllegalArgumentException.class,
                    () -> c.writeWithFileDescriptors(ByteBuffer.wrap(new byte[1]), new int[LibC.SCM_MAX_FD + 1]));
            c.close();
            assertNull(sender.nextClose().cause());
            server.close();
            assertEquals(List.of(), loop.failures);
        }
    }

    /**
     * A control buffer too small for what came (MSG_CTRUNC) fails the connection with an error naming it and closes
     * the fds that did arrive. A real sender cannot provoke it: one recvmsg on a stream socket returns the fds of at
     * most one sendmsg, at most SCM_MAX_FD, and the buffer holds that many; so the test shrinks the receiver's
     * buffer to two fds and sends five.
     */
    @Test
    void aTruncatedControlMessageFailsTheConnectionAndLeaksNothing() throws Exception {
        Receiver receiver = new Receiver(false);
        int[] pipe = pipe();
        try (Loop receiving = Loop.start("fd-ctrunc-r"); Loop sending = Loop.start("fd-ctrunc-s")) {
            receiving.call(() -> {
                NetContext.of(receiving.reactor).rightsInControlForTest(MmsgHdr.cmsgSpace(4)); // room for 2 fds
                return null;
            });
            Set<Integer> baseline = FdLeakCheck.openFds().keySet();
            TcpServer server = TcpServer.builder(receiving.reactor).bind(address("t.sock")).config(RECEIVING)
                    .handler(receiver).start();
            Tracking sender = new Tracking();
            Connection c = connect(sending, server.localAddress(), sender);
            c.writeWithFileDescriptors(ByteBuffer.wrap(new byte[] {1}), pipe[1], pipe[1], pipe[1], pipe[1], pipe[1]);
            Closed closed = receiver.nextClose();
            assertNotNull(closed.cause());
            assertTrue(closed.cause().getMessage().contains("MSG_CTRUNC"), closed.cause().toString());
            assertTrue(receiver.fds.isEmpty(), "no fds handed over from a truncated message");
            assertNotNull(sender.nextClose());
            server.close();
            server.closeFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
            awaitUntil(() -> FdLeakCheck.openFds().keySet().equals(baseline),
                    "fds back to the baseline: " + baseline + " now " + FdLeakCheck.openFds());
            assertEquals(List.of(), receiving.failures);
        } finally {
            closeAll(pipe);
        }
    }

    /** Refused where fds cannot go (TCP, TLS) and for bad arguments, with clear errors and no dup left behind. */
    @Test
    void refusedOnTcpAndTlsAndForBadArguments() throws Exception {
        int[] pipe = pipe();
        try (Loop loop = Loop.start("fd-refused")) {
            InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            Tracking accepted = new Tracking();
            TcpServer tcp = TcpServer.builder(loop.reactor).bind(loopback).handler(accepted).start();
            Connection c = connect(loop, tcp.localAddress(), new Tracking());
            TlsTestKit kit = TlsTestKit.get();
            TcpServer tls = TcpServer.builder(loop.reactor).bind(loopback)
                    .tls(TlsConfig.server(kit.serverContext())).handler(accepted).start();
            Connection t = TcpClient.builder(loop.reactor).remote(tls.localAddress())
                    .tls(TlsConfig.client(kit.clientContext())).handler(new Tracking()).connect()
                    .get(WAIT_SECONDS, TimeUnit.SECONDS);
            TcpServer unix = TcpServer.builder(loop.reactor).bind(address("r.sock")).handler(accepted).start();
            Connection u = connect(loop, unix.localAddress(), new Tracking());
            for (int i = 0; i < 3; i++) {
                accepted.nextOpen(); // every server side is open: no socket appears after the snapshot
            }
            Set<Integer> before = FdLeakCheck.openFds().keySet();

            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> c.writeWithFileDescriptors(ByteBuffer.wrap(new byte[1]), pipe[1]));
            assertTrue(e.getMessage().contains("AF_INET") && e.getMessage().contains("AF_UNIX"), e.getMessage());
            IllegalStateException te = assertThrows(IllegalStateException.class,
                    () -> t.writeWithFileDescriptors(ByteBuffer.wrap(new byte[1]), pipe[1]));
            assertTrue(te.getMessage().contains("TLS"), te.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> u.writeWithFileDescriptors(ByteBuffer.allocate(0), pipe[1]));
            assertThrows(IllegalArgumentException.class, () -> u.writeWithFileDescriptors(ByteBuffer.wrap(new byte[1])));
            assertThrows(IllegalArgumentException.class, () -> FileDescriptors.openReadOnly(dir));
            EpollException bad = assertThrows(EpollException.class,
                    () -> u.writeWithFileDescriptors(ByteBuffer.wrap(new byte[1]), pipe[1], -1));
            assertEquals(Errno.EBADF, bad.errno());
            assertTrue(bad.getMessage().contains("fds[1]=-1"), bad.getMessage());
            assertEquals(before, FdLeakCheck.openFds().keySet(), "no dup left behind by the refusals");

            c.close();
            t.close();
            u.close();
            for (TcpServer s : List.of(tcp, tls, unix)) {
                s.close();
                s.closeFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            assertThrows(ClosedConnectionException.class,
                    () -> u.writeWithFileDescriptors(ByteBuffer.wrap(new byte[1]), pipe[1]));
        } finally {
            closeAll(pipe);
        }
    }
}
