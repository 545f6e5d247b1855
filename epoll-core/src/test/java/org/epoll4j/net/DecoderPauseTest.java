package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoding handlers honour a pause: after {@link Connection#pauseReading()} no further frame of the same read is
 * delivered until reading resumes; and a too-long line can be answered (and skipped) before the connection closes.
 */
@Timeout(30)
@ExtendWith(FdLeakCheck.class)
class DecoderPauseTest {
    private static final int FRAMES = 6;
    private Reactor reactor;

    @BeforeEach
    void start() throws Exception {
        reactor = NetTestKit.startReactor("decoder-pause");
    }

    @AfterEach
    void stop() throws Exception {
        NetTestKit.stop(reactor);
    }

    /**
     * Pauses after each frame; a task queued behind the read records what was delivered meanwhile (nothing more may
     * be), then resumes. Every frame arrives in one write, so the server reads them in one go.
     */
    private static final class PausingFrames implements FrameHandler<String> {
        final List<String> frames = new CopyOnWriteArrayList<>();
        final List<String> deliveredWhilePaused = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> all = new CompletableFuture<>();

        @Override
        public void onFrame(Connection c, String frame) {
            frames.add(frame);
            if (frames.size() == FRAMES) {
                // behind the checks queued for earlier frames (tasks run in order)
                c.reactor().execute(() -> all.complete(null));
                return;
            }
            c.pauseReading();
            int seen = frames.size();
            c.reactor().execute(() -> {
                // The rest of the read was handed to the decoder before this task ran: it must have held it.
                if (frames.size() != seen) {
                    deliveredWhilePaused.add("after " + seen + " frames: " + frames);
                }
                c.resumeReading();
            });
        }
    }

    private static String payloads() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < FRAMES; i++) {
            sb.append("frame-").append(i).append('\n');
        }
        return sb.toString();
    }

    private static List<String> expected() {
        List<String> e = new java.util.ArrayList<>();
        for (int i = 0; i < FRAMES; i++) {
            e.add("frame-" + i);
        }
        return e;
    }

    @Test
    void aPausedLineDecoderDeliversNoMoreLinesUntilResumed() throws Exception {
        PausingFrames h = new PausingFrames();
        try (TcpServer server = TcpServer.builder(reactor).handlerFactory(() -> LineDecoder.handler(100, h)).start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(payloads().getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            h.all.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(), h.deliveredWhilePaused);
            assertEquals(expected(), h.frames);
        }
    }

    @Test
    void aPausedLengthFieldDecoderDeliversNoMoreFramesUntilResumed() throws Exception {
        PausingFrames h = new PausingFrames();
        ByteBuffer all = ByteBuffer.allocate(1000);
        for (String f : expected()) {
            all.put(LengthFieldDecoder.frame(ByteBuffer.wrap(f.getBytes(StandardCharsets.US_ASCII))));
        }
        FrameHandler<ByteBuffer> bytes = new FrameHandler<>() {
            @Override
            public void onFrame(Connection c, ByteBuffer frame) {
                h.onFrame(c, DecodingHandler.utf8(frame));
            }
        };
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> LengthFieldDecoder.handler(100, bytes)).start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(all.array(), 0, all.position());
            s.getOutputStream().flush();
            h.all.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(), h.deliveredWhilePaused);
            assertEquals(expected(), h.frames);
        }
    }

    @Test
    void framesHeldByAPauseAreDeliveredBeforeTheHangup() throws Exception {
        PausingFrames h = new PausingFrames();
        CompletableFuture<List<String>> atHangup = new CompletableFuture<>();
        FrameHandler<String> withHangup = new FrameHandler<>() {
            @Override
            public void onFrame(Connection c, String frame) {
                h.onFrame(c, frame);
                c.write(frame + "\n");
            }

            @Override
            public void onReadHangup(Connection c) {
                atHangup.complete(List.copyOf(h.frames));
                c.close();
            }
        };
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> LineDecoder.handler(100, withHangup)).start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(payloads().getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertEquals(expected(), atHangup.get(10, TimeUnit.SECONDS));
            byte[] replies = payloads().getBytes(StandardCharsets.US_ASCII);
            assertEquals(payloads(), new String(NetTestKit.readFully(s.getInputStream(), replies.length),
                    StandardCharsets.US_ASCII));
            assertTrue(NetTestKit.readsEofOrReset(s));
        }
    }

    /** Answers a too-long line and goes on ({@code skip}) or closes after the answer is sent. */
    private static FrameHandler<String> answering(boolean close, CompletableFuture<Throwable> cause) {
        return new FrameHandler<>() {
            @Override
            public void onFrame(Connection c, String line) {
                c.write("OK " + line + "\n");
            }

            @Override
            public boolean onFrameTooLong(Connection c, FrameTooLongException e) {
                c.write("ERR line too long\n");
                return close;
            }

            @Override
            public void onClose(Connection c, Throwable t) {
                cause.complete(t);
            }
        };
    }

    @Test
    void aTooLongLineCanBeAnsweredAndSkipped() throws Exception {
        CompletableFuture<Throwable> cause = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> LineDecoder.handler(10, answering(false, cause))).start();
             Socket s = NetTestKit.connect(server.port())) {
            OutputStream out = s.getOutputStream();
            // one too-long line whole in a read, one split over two writes (the decoder discards up to its '\n')
            out.write("a\nxxxxxxxxxxxxxxxxxxxx\nb\nyyyyyyyyyyyyyyyy".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String want = "OK a\nERR line too long\nOK b\nERR line too long\n";
            assertEquals(want, new String(NetTestKit.readFully(s.getInputStream(), want.length()),
                    StandardCharsets.US_ASCII));
            out.write("yyyyyyyyyyyyyyyyyyyyyy\nc\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("OK c\n", new String(NetTestKit.readFully(s.getInputStream(), 5), StandardCharsets.US_ASCII));
        }
        assertEquals(null, cause.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aTooLongLineIsAnsweredBeforeTheConnectionCloses() throws Exception {
        CompletableFuture<Throwable> cause = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> LineDecoder.handler(10, answering(true, cause))).start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write("a\nxxxxxxxxxxxxxxxxxxxx\nb\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String want = "OK a\nERR line too long\n";
            assertEquals(want, new String(NetTestKit.readFully(s.getInputStream(), want.length()),
                    StandardCharsets.US_ASCII));
            assertTrue(NetTestKit.readsEofOrReset(s));
            assertInstanceOf(FrameTooLongException.class, cause.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aTooLongLengthCanBeSkipped() throws Exception {
        CompletableFuture<Throwable> cause = new CompletableFuture<>();
        List<String> frames = new CopyOnWriteArrayList<>();
        FrameHandler<ByteBuffer> h = new FrameHandler<>() {
            @Override
            public void onFrame(Connection c, ByteBuffer frame) {
                frames.add(DecodingHandler.utf8(frame));
                c.write("ok\n");
            }

            @Override
            public boolean onFrameTooLong(Connection c, FrameTooLongException e) {
                c.write("skipped\n");
                return false;
            }

            @Override
            public void onClose(Connection c, Throwable t) {
                cause.complete(t);
            }
        };
        try (TcpServer server = TcpServer.builder(reactor)
                .handlerFactory(() -> LengthFieldDecoder.handler(8, h)).start();
             Socket s = NetTestKit.connect(server.port())) {
            ByteBuffer b = ByteBuffer.allocate(100);
            b.put(LengthFieldDecoder.frame(ByteBuffer.wrap("one".getBytes(StandardCharsets.US_ASCII))));
            b.put(LengthFieldDecoder.frame(ByteBuffer.wrap("far too long".getBytes(StandardCharsets.US_ASCII))));
            b.put(LengthFieldDecoder.frame(ByteBuffer.wrap("two".getBytes(StandardCharsets.US_ASCII))));
            s.getOutputStream().write(b.array(), 0, b.position());
            s.getOutputStream().flush();
            String want = "ok\nskipped\nok\n";
            assertEquals(want, new String(NetTestKit.readFully(s.getInputStream(), want.length()),
                    StandardCharsets.US_ASCII));
            assertEquals(List.of("one", "two"), frames);
        }
        assertEquals(null, cause.get(10, TimeUnit.SECONDS));
    }
}
