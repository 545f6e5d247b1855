package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * TLS output flow: watermarks and queuedBytes count plaintext (ciphertext is made only as the socket drains), and
 * sendFile over TLS is read, encrypted and sent in bounded batches, in order with plain writes.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class TlsFlowTest {
    private static final long SEED = 7_2026_1127L;
    private static TlsTestKit kit;

    @TempDir
    Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        kit = TlsTestKit.get();
    }

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readN(InputStream in, int n) throws IOException {
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(b, off, n - off);
            if (r < 0) {
                throw new IOException("EOF after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return b;
    }

    private SSLSocket client(TcpServer server) throws Exception {
        InetSocketAddress at = (InetSocketAddress) server.localAddress();
        SSLSocket s = (SSLSocket) kit.peerClientContext().getSocketFactory().createSocket(at.getAddress(), at.getPort());
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        return s;
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void watermarksCountPlaintext(TriggerMode mode) throws Exception {
        int total = 4 << 20;
        System.out.println("seed " + SEED);
        byte[] data = random(SEED, total);
        CompletableFuture<long[]> afterWrite = new CompletableFuture<>();
        CompletableFuture<Void> writableAgain = new CompletableFuture<>();
        Tracking h = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                long handshake = c.bytesWritten();
                c.write(ByteBuffer.wrap(data));
                afterWrite.complete(new long[]{c.queuedBytes(), c.isWritable() ? 1 : 0, c.bytesWritten() - handshake});
            }

            @Override
            public void onWritabilityChanged(Connection c, boolean writable) {
                if (writable) {
                    writableAgain.complete(null);
                }
            }
        };
        try (Loop loop = Loop.start("tls-watermarks")) {
            // small kernel buffers, so that most of the 4 MiB stays queued (loopback would otherwise take it all)
            TcpServer server = TcpServer.builder(loop.reactor).config(ConnectionConfig.defaults().withTrigger(mode))
                    .childOptions(SockOpts.empty().with(SockOpt.SO_SNDBUF, 64 * 1024))
                    .tls(TlsConfig.server(kit.serverContext())).handler(h).start();
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            try (java.net.Socket plain = new java.net.Socket()) {
                plain.setReceiveBufferSize(64 * 1024);
                plain.connect(at);
                SSLSocket s = (SSLSocket) kit.peerClientContext().getSocketFactory().createSocket(plain, "localhost",
                        at.getPort(), true);
                s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                s.startHandshake(); // and read nothing yet: the kernel's buffers fill, the rest stays queued
                long[] r = afterWrite.get(WAIT_SECONDS, TimeUnit.SECONDS);
                long queued = r[0];
                long sent = r[2];
                assertEquals(0, r[1], "4 MiB queued is above the 64 KiB high watermark");
                // what the kernel took is ciphertext: the plaintext in it plus 22-29 bytes per 16 KiB record; the
                // rest is counted as plaintext (plus the record overhead of the one batch queued as ciphertext);
                // Conscrypt's records can be shorter than 16 KiB, so allow twice as many
                long records = sent / 8192 + 16;
                assertTrue(queued >= total - sent, "queued " + queued + " of " + total + ", sent " + sent);
                assertTrue(queued <= total - sent + records * 29, "queued " + queued + ", sent " + sent);
                byte[] back = readN(s.getInputStream(), total);
                assertArrayEquals(data, back);
                writableAgain.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            h.nextClose();
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void sendFileOverTlsIsReadEncryptedAndSentInOrder(TriggerMode mode) throws Exception {
        int size = 3 * 1024 * 1024 + 123;
        System.out.println("seed " + SEED);
        byte[] content = random(SEED + 1, size);
        Path file = dir.resolve("f.bin");
        Files.write(file, content);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        Tracking h = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                c.write("head;");
                c.sendFile(file, 0, size);
                c.write("mid;");
                c.sendFile(channel, 1000, 5000);
                c.write("tail;");
                c.close();
            }
        };
        try (Loop loop = Loop.start("tls-sendfile")) {
            TcpServer server = TcpServer.builder(loop.reactor).config(ConnectionConfig.defaults().withTrigger(mode))
                    .tls(TlsConfig.server(kit.serverContext())).handler(h).start();
            try (SSLSocket s = client(server)) {
                InputStream in = s.getInputStream();
                assertEquals("head;", new String(readN(in, 5), StandardCharsets.US_ASCII));
                assertArrayEquals(content, readN(in, size), "the file, byte for byte");
                assertEquals("mid;", new String(readN(in, 4), StandardCharsets.US_ASCII));
                assertArrayEquals(Arrays.copyOfRange(content, 1000, 6000), readN(in, 5000));
                assertEquals("tail;", new String(readN(in, 5), StandardCharsets.US_ASCII));
                assertEquals(-1, in.read(), "then close_notify");
            }
            assertNull(h.nextClose().cause());
            server.close();
        } finally {
            channel.close();
        }
    }

    /** Pausing in onData leaves whole records unread in the connection; resuming delivers them (no event needed). */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void pauseInOnDataKeepsUnreadRecordsUntilResume(TriggerMode mode) throws Exception {
        int total = 1 << 20;
        System.out.println("seed " + SEED);
        byte[] data = random(SEED + 2, total);
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        java.util.concurrent.BlockingQueue<Connection> paused = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.atomic.AtomicInteger whilePaused = new java.util.concurrent.atomic.AtomicInteger();
        CompletableFuture<Void> all = new CompletableFuture<>();
        Tracking h = new Tracking() {
            @Override
            public void onData(Connection c, ByteBuffer d) {
                if (c.isReadingPaused()) {
                    whilePaused.incrementAndGet();
                }
                byte[] b = new byte[d.remaining()];
                d.get(b);
                got.write(b, 0, b.length);
                if (got.size() == total) {
                    all.complete(null);
                } else {
                    c.pauseReading();
                    paused.add(c);
                }
            }
        };
        try (Loop loop = Loop.start("tls-pause")) {
            TcpServer server = TcpServer.builder(loop.reactor).config(ConnectionConfig.defaults().withTrigger(mode))
                    .tls(TlsConfig.server(kit.serverContext())).handler(h).start();
            try (SSLSocket s = client(server)) {
                s.startHandshake();
                s.getOutputStream().write(data); // one write: many records per read on the server
                s.getOutputStream().flush();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
                while (!all.isDone() && System.nanoTime() < deadline) {
                    Connection c = paused.poll(10, TimeUnit.MILLISECONDS); // the last delivery pauses nothing
                    if (c != null) {
                        loop.barrier(); // events that were due ran while paused: still nothing may be delivered
                        c.resumeReading();
                    }
                }
                all.get(WAIT_SECONDS, TimeUnit.SECONDS);
                assertEquals(0, whilePaused.get(), "onData while paused");
                assertArrayEquals(data, got.toByteArray());
            }
            h.nextClose();
            server.close();
        }
    }

    /** Writes from a thread that is not the loop's are copied, handed over in order and encrypted there. */
    @Test
    void writesFromAnotherThreadArriveInOrder() throws Exception {
        int total = 1 << 20;
        System.out.println("seed " + SEED);
        byte[] data = random(SEED + 3, total);
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-foreign-writes")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(TlsConfig.server(kit.serverContext()))
                    .handler(h).start();
            try (SSLSocket s = client(server)) {
                s.startHandshake();
                Connection c = h.nextOpen();
                Random r = new Random(SEED + 4);
                for (int i = 0; i < total; ) {
                    int n = Math.min(total - i, 1 + r.nextInt(30_000));
                    if (r.nextBoolean()) {
                        c.write(Arrays.copyOfRange(data, i, i + n));
                    } else {
                        c.write(ByteBuffer.wrap(data, i, n / 2), ByteBuffer.wrap(data, i + n / 2, n - n / 2));
                    }
                    i += n;
                }
                assertArrayEquals(data, readN(s.getInputStream(), total));
            }
            assertNull(h.nextClose().cause());
            server.close();
        }
    }

    /**
     * TLS 1.3 half-close, our side first: after our close_notify the peer's records are still delivered. Conscrypt's
     * engine answers CLOSED to every unwrap once its output is closed, plaintext and all; that CLOSED was once taken
     * for the peer's close_notify, and the stream ended early without an error (a blocking client that wrote, called
     * shutdownOutput() and read the echo got a correct prefix, then EOF).
     */
    @Test
    void shutdownOutputSendsCloseNotifyThenReadsOn() throws Exception {
        CompletableFuture<String> got = new CompletableFuture<>();
        Tracking h = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                c.write("half");
                c.shutdownOutput();
            }

            @Override
            public void onData(Connection c, ByteBuffer d) {
                got.complete(StandardCharsets.US_ASCII.decode(d).toString());
            }
        };
        try (Loop loop = Loop.start("tls-half-close")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(TlsConfig.server(kit.serverContext()).protocols("TLSv1.3"))
                    .handler(h).start();
            try (SSLSocket s = client(server)) {
                InputStream in = s.getInputStream();
                assertEquals("half", new String(readN(in, 4), StandardCharsets.US_ASCII));
                assertEquals(-1, in.read(), "close_notify");
                s.getOutputStream().write("back".getBytes(StandardCharsets.US_ASCII)); // TLS 1.3 half-close
                s.getOutputStream().flush();
                assertEquals("back", got.get(WAIT_SECONDS, TimeUnit.SECONDS));
            }
            h.nextClose();
            server.close();
        }
    }

    /**
     * TLS 1.3 half-close, the peer's side first: the JDK's engine still sends after the peer's close_notify;
     * Conscrypt's closes its output when that close_notify is unwrapped (as TLS 1.2 does), so a write after it fails
     * the connection with an exception that says so, never silently.
     */
    @Test
    void aWriteAfterThePeersCloseNotifyIsSentOrFailsSayingWhy() throws Exception {
        Tracking h = new Tracking() {
            @Override
            public void onReadHangup(Connection c) {
                c.write("back");
                c.close();
            }
        };
        try (Loop loop = Loop.start("tls-peer-half-close")) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .tls(TlsConfig.server(kit.serverContext()).protocols("TLSv1.3")).handler(h).start();
            try (SSLSocket s = client(server)) {
                s.startHandshake();
                s.shutdownOutput(); // close_notify; TLS 1.3: the socket reads on
                Closed closed = h.nextClose();
                if (TlsTestProvider.isConscrypt()) {
                    assertNotNull(closed.cause(), "the write after the peer's close_notify cannot be sent");
                    assertTrue(closed.cause().getMessage().contains("peer's close_notify"), closed.cause().toString());
                } else {
                    assertNull(closed.cause());
                    assertEquals("back", new String(readN(s.getInputStream(), 4), StandardCharsets.US_ASCII));
                    assertEquals(-1, s.getInputStream().read(), "close_notify");
                }
            }
            server.close();
        }
    }
}
