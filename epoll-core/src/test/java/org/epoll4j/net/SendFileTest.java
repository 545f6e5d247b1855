package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** sendFile from a Path and from a FileChannel, in order with writes, through a slow reader. */
@Timeout(30)
@ExtendWith(FdLeakCheck.class)
class SendFileTest {
    private static final int SIZE = 3 * 1024 * 1024 + 12345;
    @TempDir
    Path dir;
    private Reactor reactor;
    private Path file;
    private byte[] content;

    @BeforeEach
    void setUp() throws Exception {
        content = new byte[SIZE];
        new Random(1).nextBytes(content);
        file = Files.write(dir.resolve("data.bin"), content);
        reactor = NetTestKit.startReactor("sendfile");
    }

    @AfterEach
    void tearDown() throws Exception {
        NetTestKit.stop(reactor);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void fileRegionsArriveByteExactInOrderWithWrites() throws Exception {
        CountDownLatch queued = new CountDownLatch(1);
        CompletableFuture<Throwable> closed = new CompletableFuture<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
             TcpServer server = TcpServer.builder(reactor).handler(new ConnectionHandler() {
                 @Override
                 public void onOpen(Connection c) throws Exception {
                     c.write("head;");
                     c.sendFile(file, 0, SIZE);
                     c.write(ascii("mid;"));
                     c.sendFile(channel, 1000, SIZE - 2000);
                     c.write(ByteBuffer.wrap(ascii("tail;")));
                     c.sendFile(file, SIZE - 7, 7);
                     c.close(); // graceful: after every queued byte
                     if (c.queuedBytes() > 0) {
                         queued.countDown(); // the reader has not read yet: the EPOLLOUT path does the rest
                     }
                 }

                 @Override
                 public void onData(Connection c, ByteBuffer data) {
                 }

                 @Override
                 public void onClose(Connection c, Throwable cause) {
                     closed.complete(cause);
                 }
             }).start();
             Socket s = NetTestKit.connect(server.port())) {
            assertTrue(queued.await(10, TimeUnit.SECONDS), "bytes were queued behind a full socket");
            ByteArrayOutputStream want = new ByteArrayOutputStream();
            want.writeBytes(ascii("head;"));
            want.writeBytes(content);
            want.writeBytes(ascii("mid;"));
            want.write(content, 1000, SIZE - 2000);
            want.writeBytes(ascii("tail;"));
            want.write(content, SIZE - 7, 7);
            // A slow reader: small reads, so the server refills the socket from its queue many times.
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[1500];
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
            assertNull(closed.get(10, TimeUnit.SECONDS), "closed cleanly");
            byte[] expected = want.toByteArray();
            byte[] actual = got.toByteArray();
            assertEquals(expected.length, actual.length);
            assertArrayEquals(expected, actual);
        }
    }

    /**
     * A head written under cork() in front of a file leaves in the file's first segment ({@link WriteQueue} sends it
     * with MSG_MORE): the server's socket counts one data segment for both (tcp_info's tcpi_data_segs_out), where the
     * head sent on its own would make two (and draw an ACK of its own).
     */
    @Test
    void aCorkedHeadLeavesInTheFilesFirstSegment() throws Exception {
        byte[] head = ascii("HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n");
        CompletableFuture<Integer> segments = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).handler(new ConnectionHandler() {
                 @Override
                 public void onOpen(Connection c) throws Exception {
                     c.cork();
                     c.write(ByteBuffer.wrap(head));
                     c.sendFile(file, 0, 4000);
                     c.uncork();
                     segments.complete(dataSegmentsOut(c.fd()));
                     c.close();
                 }

                 @Override
                 public void onData(Connection c, ByteBuffer data) {
                 }
             }).start();
             Socket s = NetTestKit.connect(server.port())) {
            byte[] got = s.getInputStream().readAllBytes();
            ByteArrayOutputStream want = new ByteArrayOutputStream();
            want.writeBytes(head);
            want.write(content, 0, 4000);
            assertArrayEquals(want.toByteArray(), got);
            assertEquals(1, segments.get(10, TimeUnit.SECONDS), "head and file in one data segment");
        }
    }

    /** tcp_info's tcpi_data_segs_out (Linux 4.6 on, offset 156): the data segments a TCP socket has sent. */
    private static int dataSegmentsOut(int fd) {
        final int tcpInfo = 11;
        ByteBuffer info = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
        ByteBuffer len = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).putInt(0, 256);
        int r = LibC.getsockopt(fd, LibC.IPPROTO_TCP, tcpInfo, NativeMemory.address(info), NativeMemory.address(len));
        assertEquals(0, r, () -> "getsockopt(TCP_INFO): " + Errno.describe(LibC.errno()));
        assertTrue(len.getInt(0) >= 160, () -> "tcp_info too short for tcpi_data_segs_out: " + len.getInt(0));
        return info.getInt(156);
    }

    @Test
    void aFifoIsRefusedWithoutBlockingTheReactor() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo");
        CompletableFuture<Throwable> refused = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).handler(new ConnectionHandler() {
                 @Override
                 public void onOpen(Connection c) {
                     try {
                         c.sendFile(fifo, 0, 10); // open(2) of a FIFO with no writer would block this thread
                         refused.complete(null);
                     } catch (Throwable t) {
                         refused.complete(t);
                     }
                     c.write("still serving");
                     c.close();
                 }

                 @Override
                 public void onData(Connection c, ByteBuffer data) {
                 }
             }).start();
             Socket s = NetTestKit.connect(server.port())) {
            Throwable t = refused.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof IllegalArgumentException && t.getMessage().contains("not a regular file"),
                    String.valueOf(t));
            assertArrayEquals(ascii("still serving"), s.getInputStream().readAllBytes());
        }
    }

    private Throwable sendPastTheEnd(FileChannel channel) throws Exception {
        CompletableFuture<Throwable> closed = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).handler(new ConnectionHandler() {
                 @Override
                 public void onOpen(Connection c) throws Exception {
                     if (channel == null) {
                         c.sendFile(file, SIZE - 100, 5000);
                     } else {
                         c.sendFile(channel, SIZE - 100, 5000);
                     }
                     c.write("never");
                 }

                 @Override
                 public void onData(Connection c, ByteBuffer data) {
                 }

                 @Override
                 public void onClose(Connection c, Throwable cause) {
                     closed.complete(cause == null ? new AssertionError("closed without an error") : cause);
                 }
             }).start();
             Socket s = NetTestKit.connect(server.port())) {
            byte[] got = s.getInputStream().readAllBytes(); // ends: EOF (or a reset, below) rather than a hang
            assertTrue(got.length <= 100, "no bytes from beyond the end of the file: got " + got.length);
            for (int i = 0; i < got.length; i++) {
                assertEquals(content[SIZE - 100 + i], got[i]);
            }
            return closed.get(10, TimeUnit.SECONDS);
        } catch (java.net.SocketException reset) {
            return closed.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPathRegionPastTheEndClosesWithAnError() throws Exception {
        Throwable t = sendPastTheEnd(null);
        assertInstanceOf(EpollException.class, t);
        assertTrue(t.getMessage().contains("file ended"), t.getMessage());
    }

    @Test
    void aChannelRegionPastTheEndClosesWithAnError() throws Exception {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Throwable t = sendPastTheEnd(channel);
            assertInstanceOf(java.io.IOException.class, t);
        }
    }

    @Test
    void negativeRangesAreRefusedAtTheCall() throws Exception {
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).handler(new ConnectionHandler() {
                 @Override
                 public void onOpen(Connection c) {
                     try {
                         c.sendFile(file, -1, 10);
                         thrown.complete(null);
                     } catch (Throwable e) {
                         thrown.complete(e);
                     }
                 }

                 @Override
                 public void onData(Connection c, ByteBuffer data) {
                 }
             }).start();
             Socket s = NetTestKit.connect(server.port())) {
            Throwable t = thrown.get(10, TimeUnit.SECONDS);
            assertInstanceOf(IllegalArgumentException.class, t);
            assertTrue(t.getMessage().contains("position=-1"), t.getMessage());
        }
    }
}
