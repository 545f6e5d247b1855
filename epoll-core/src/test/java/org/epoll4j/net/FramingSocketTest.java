package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The framing helpers on real sockets through TcpServer. */
@Timeout(30)
@ExtendWith(FdLeakCheck.class)
class FramingSocketTest {
    private Reactor reactor;

    @BeforeEach
    void start() throws Exception {
        reactor = NetTestKit.startReactor("framing");
    }

    @AfterEach
    void stop() throws Exception {
        NetTestKit.stop(reactor);
    }

    /** Sends {@code bytes} in random small writes so the server sees frames cut at arbitrary read boundaries. */
    private static void sendChunked(OutputStream out, byte[] bytes, Random r) throws Exception {
        int pos = 0;
        while (pos < bytes.length) {
            int n = Math.min(bytes.length - pos, 1 + r.nextInt(r.nextBoolean() ? 7 : 3000));
            out.write(bytes, pos, n);
            out.flush();
            pos += n;
        }
    }

    @Test
    void lineEchoThroughTcpServer() throws Exception {
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> LineDecoder.handler(8192, (conn, line) -> conn.write(line + "\n")))
                .start();
             Socket s = NetTestKit.connect(server.port())) {
            Random r = new Random(42);
            StringBuilder sent = new StringBuilder();
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 500; i++) {
                StringBuilder line = new StringBuilder();
                int len = r.nextInt(i % 50 == 0 ? 8192 : 80);
                for (int j = 0; j < len; j++) {
                    line.append((char) ('a' + r.nextInt(26)));
                }
                if (i % 7 == 0) {
                    line.append("é€"); // multi-byte UTF-8 split across reads survives
                }
                sent.append(line).append(i % 2 == 0 ? "\r\n" : "\n");
                expected.append(line).append('\n');
            }
            byte[] want = expected.toString().getBytes(StandardCharsets.UTF_8);
            CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
                try {
                    return NetTestKit.readFully(s.getInputStream(), want.length);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            sendChunked(s.getOutputStream(), sent.toString().getBytes(StandardCharsets.UTF_8), r);
            assertArrayEquals(want, echoed.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void lengthFieldEchoThroughTcpServer() throws Exception {
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> LengthFieldDecoder.handler(1 << 20,
                        (conn, payload) -> LengthFieldDecoder.writeFrame(conn, payload)))
                .start();
             Socket s = NetTestKit.connect(server.port())) {
            Random r = new Random(7);
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            byte[][] payloads = new byte[200][];
            for (int i = 0; i < payloads.length; i++) {
                payloads[i] = new byte[i % 40 == 0 ? 200_000 : r.nextInt(500)];
                r.nextBytes(payloads[i]);
                ByteBuffer f = LengthFieldDecoder.frame(ByteBuffer.wrap(payloads[i]));
                stream.write(f.array(), f.arrayOffset(), f.remaining());
            }
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                try {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    for (byte[] p : payloads) {
                        assertEquals(p.length, in.readInt());
                        byte[] got = new byte[p.length];
                        in.readFully(got);
                        assertArrayEquals(p, got);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            sendChunked(s.getOutputStream(), stream.toByteArray(), r);
            reader.get(20, TimeUnit.SECONDS);
        }
    }

    /** Wraps a decoding handler to observe why its connection closed. */
    private static ConnectionHandler observing(ConnectionHandler inner, CompletableFuture<Throwable> cause) {
        return new ConnectionHandler() {
            @Override
            public void onOpen(Connection c) throws Exception {
                inner.onOpen(c);
            }

            @Override
            public void onData(Connection c, ByteBuffer data) throws Exception {
                inner.onData(c, data);
            }

            @Override
            public void onClose(Connection c, Throwable t) {
                inner.onClose(c, t);
                cause.complete(t);
            }
        };
    }

    @Test
    void anOverlongLineClosesTheConnectionWithFrameTooLong() throws Exception {
        CompletableFuture<Throwable> cause = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> observing(LineDecoder.handler(100, (c, l) -> c.write(l + "\n")), cause))
                .start();
             Socket s = NetTestKit.connect(server.port())) {
            OutputStream out = s.getOutputStream();
            out.write("ok\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[150]);
            out.flush();
            assertArrayEquals("ok\n".getBytes(StandardCharsets.US_ASCII), NetTestKit.readFully(s.getInputStream(), 3));
            assertTrue(NetTestKit.readsEofOrReset(s));
            Throwable t = cause.get(10, TimeUnit.SECONDS);
            assertInstanceOf(FrameTooLongException.class, t);
            assertTrue(t.getMessage().contains("limit of 100 bytes"), t.getMessage());
            assertEquals(0, NetTestKit.onLoop(reactor, server::activeConnections));
        }
    }

    @Test
    void anOverlongLengthClosesTheConnection() throws Exception {
        CompletableFuture<Throwable> cause = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> observing(LengthFieldDecoder.handler(1000, (c, p) -> { }), cause))
                .start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(new byte[] {0, 0, 0x10, 0});
            s.getOutputStream().flush();
            assertTrue(NetTestKit.readsEofOrReset(s));
            Throwable t = cause.get(10, TimeUnit.SECONDS);
            assertInstanceOf(FrameTooLongException.class, t);
            assertEquals("frame length 4096 exceeds the limit of 1000 bytes", t.getMessage());
        }
    }

    @Test
    void oneDecodingHandlerSharedByTwoConnectionsIsRefusedClearly() throws Exception {
        CompletableFuture<Throwable> second = new CompletableFuture<>();
        ConnectionHandler shared = LineDecoder.handler(100, (c, l) -> c.write(l + "\n"));
        CompletableFuture<Throwable> first = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> observing(shared, n.getAndIncrement() == 0 ? first : second))
                .start();
             Socket a = NetTestKit.connect(server.port())) {
            a.getOutputStream().write("hi\n".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals("hi\n".getBytes(StandardCharsets.US_ASCII), NetTestKit.readFully(a.getInputStream(), 3));
            try (Socket b = NetTestKit.connect(server.port())) {
                Throwable t = second.get(10, TimeUnit.SECONDS);
                assertInstanceOf(IllegalStateException.class, t);
                assertTrue(t.getMessage().contains("handlerFactory"), t.getMessage());
                assertTrue(NetTestKit.readsEofOrReset(b));
            }
            assertFalse(first.isDone(), "the first connection is unaffected");
        }
    }
    /** Frames written with {@link LengthFieldDecoder#writeFrame} from several threads at once arrive whole. */
    @Test
    void framesWrittenFromSeveralThreadsStayWhole() throws Exception {
        final int writers = 4;
        final int frames = 500;
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).handler(new ConnectionHandler() {
            @Override
            public void onOpen(Connection c) {
                opened.complete(c);
            }

            @Override
            public void onData(Connection c, ByteBuffer data) {
                data.position(data.limit());
            }
        }).start(); Socket s = NetTestKit.connect(server.port())) {
            Connection conn = opened.get(10, TimeUnit.SECONDS);
            CompletableFuture<int[]> reader = CompletableFuture.supplyAsync(() -> {
                int[] next = new int[writers];
                try {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    for (int k = 0; k < writers * frames; k++) {
                        int len = in.readInt();
                        assertTrue(len >= 8 && len < 8 + 100, "frame " + k + ": length " + len);
                        byte[] p = new byte[len];
                        in.readFully(p);
                        ByteBuffer b = ByteBuffer.wrap(p);
                        int writer = b.getInt();
                        int seq = b.getInt();
                        assertTrue(writer >= 0 && writer < writers, "frame " + k + ": writer " + writer);
                        assertEquals(next[writer]++, seq, "frame " + k + " of writer " + writer);
                        assertEquals(8 + seq % 100, len, "frame " + k + ": length of " + writer + "/" + seq);
                        while (b.hasRemaining()) {
                            assertEquals((byte) writer, b.get(), "frame " + k + ": filler of " + writer + "/" + seq);
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                return next;
            });
            java.util.List<CompletableFuture<Void>> sending = new java.util.ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                CompletableFuture<Void> done = new CompletableFuture<>();
                sending.add(done);
                Thread t = new Thread(() -> {
                    try {
                        for (int seq = 0; seq < frames; seq++) {
                            ByteBuffer p = ByteBuffer.allocate(8 + seq % 100).putInt(writer).putInt(seq);
                            while (p.hasRemaining()) {
                                p.put((byte) writer);
                            }
                            LengthFieldDecoder.writeFrame(conn, p.flip());
                            assertFalse(p.hasRemaining(), "writeFrame consumes the payload");
                        }
                        done.complete(null);
                    } catch (Throwable e) {
                        done.completeExceptionally(e);
                    }
                }, "frame-writer-" + writer);
                t.setDaemon(true);
                t.start();
            }
            for (CompletableFuture<Void> f : sending) {
                f.get(20, TimeUnit.SECONDS);
            }
            assertArrayEquals(new int[] {frames, frames, frames, frames}, reader.get(20, TimeUnit.SECONDS));
        }
    }
    /** A {@link FrameHandler} records every callback a decoding handler passes on. */
    static final class Recording implements FrameHandler<String> {
        final java.util.concurrent.BlockingQueue<String> events = new java.util.concurrent.LinkedBlockingQueue<>();
        final int big;

        Recording(int big) {
            this.big = big;
        }

        @Override
        public void onOpen(Connection c) {
            events.add("open");
        }

        @Override
        public void onFrame(Connection c, String line) {
            events.add("line:" + line);
            if (line.equals("big")) {
                c.write(new byte[big]);
            }
        }

        @Override
        public void onWritabilityChanged(Connection c, boolean writable) {
            events.add("writable:" + writable);
        }

        @Override
        public void onReadHangup(Connection c) {
            events.add("hangup");
            c.close();
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            events.add("close:" + cause);
        }

        String next() throws InterruptedException {
            String e = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "no callback in time");
            return e;
        }
    }

    @Test
    void aFrameHandlerSeesTheWholeLifecycle() throws Exception {
        int big = 32 << 20;
        Recording user = new Recording(big);
        try (TcpServer server = TcpServer.builder(reactor)
                .config(ConnectionConfig.defaults().withWriteWatermarks(1024, 64 * 1024))
                .handlerFactory(() -> LineDecoder.handler(100, user))
                .start();
             Socket s = NetTestKit.connect(server.port())) {
            assertEquals("open", user.next());
            s.getOutputStream().write("hi\nbig\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("line:hi", user.next());
            assertEquals("line:big", user.next());
            assertEquals("writable:false", user.next());
            NetTestKit.readFully(s.getInputStream(), big);
            assertEquals("writable:true", user.next());
            s.shutdownOutput();
            assertEquals("hangup", user.next());
            assertEquals("close:null", user.next());
            assertTrue(NetTestKit.readsEofOrReset(s));
        }
    }

    @Test
    void aFrameHandlerBehindALengthFieldDecoderSeesOpenAndClose() throws Exception {
        java.util.concurrent.BlockingQueue<String> events = new java.util.concurrent.LinkedBlockingQueue<>();
        FrameHandler<ByteBuffer> user = new FrameHandler<>() {
            @Override
            public void onOpen(Connection c) {
                events.add("open");
            }

            @Override
            public void onFrame(Connection c, ByteBuffer payload) {
                events.add("frame:" + payload.remaining());
                c.closeWith(new IllegalStateException("enough"));
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                events.add("close:" + cause.getMessage());
            }
        };
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> FrameDecoder.handler(new LengthFieldDecoder(100), user))
                .start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(new byte[] {0, 0, 0, 3, 1, 2, 3});
            for (String want : new String[] {"open", "frame:3", "close:enough"}) {
                assertEquals(want, events.poll(10, TimeUnit.SECONDS));
            }
            assertTrue(NetTestKit.readsEofOrReset(s));
        }
    }
}
