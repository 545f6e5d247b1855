package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ConnectionConfig#withBatchedWrites}: writes a handler makes while the reactor dispatches a batch are held
 * (counted as queued) and leave after the batch in one send; a cork still holds at the batch's end; a close in the
 * same batch sends everything, then the FIN, and so does an abrupt one (a refused TLS handshake's alert too); writes
 * from other threads and under LEVEL arrive intact, LEVEL without an epoll_ctl per write; off by default.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetBatchedWritesTest {
    private static final ConnectionConfig BATCHED = ConnectionConfig.defaults().withBatchedWrites(true);
    private Loop loop;

    @BeforeEach
    void start() throws Exception {
        loop = Loop.start("batched-writes");
    }

    @AfterEach
    void stop() {
        loop.close();
        assertEquals(List.of(), loop.failures);
    }

    /** Echoes each read in three writes, recording what was queued right after them and the sends at close. */
    private static final class SplitEcho implements ConnectionHandler {
        final CompletableFuture<Long> queuedAfterFirstWrites = new CompletableFuture<>();
        final CompletableFuture<Long> writeCallsAtClose = new CompletableFuture<>();
        final boolean closeAfter;

        SplitEcho(boolean closeAfter) {
            this.closeAfter = closeAfter;
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            int n = data.remaining();
            int start = data.position();
            for (int part = 0; part < 3; part++) {
                ByteBuffer slice = data.duplicate();
                slice.limit(start + n * (part + 1) / 3).position(start + n * part / 3);
                connection.write(slice);
            }
            data.position(data.limit());
            queuedAfterFirstWrites.complete(connection.queuedBytes());
            if (closeAfter) {
                connection.close();
            }
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            writeCallsAtClose.complete(connection.writeCalls());
        }
    }

    private byte[] roundTrip(ConnectionConfig config, SplitEcho handler, byte[] message) throws Exception {
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(config).handler(handler).start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(message); // one write of 30 bytes: one read on the server
            byte[] back = readFully(s.getInputStream(), message.length);
            s.close();
            handler.writeCallsAtClose.get(WAIT_SECONDS, TimeUnit.SECONDS);
            return back;
        }
    }

    @Test
    void writesInOneBatchAreHeldThenLeaveInOneSend() throws Exception {
        byte[] message = bytes(3, 0, 30);
        SplitEcho echo = new SplitEcho(false);
        assertArrayEquals(message, roundTrip(BATCHED, echo, message));
        assertEquals(30, echo.queuedAfterFirstWrites.getNow(-1L), "held (and counted) until the batch ends");
        assertEquals(1, echo.writeCallsAtClose.getNow(-1L), "three writes, one send");
    }

    @Test
    void offByDefaultEachWriteIsSentAtOnce() throws Exception {
        assertFalse(ConnectionConfig.defaults().batchedWrites());
        byte[] message = bytes(4, 0, 30);
        SplitEcho echo = new SplitEcho(false);
        assertArrayEquals(message, roundTrip(ConnectionConfig.defaults(), echo, message));
        assertEquals(0, echo.queuedAfterFirstWrites.getNow(-1L));
        assertEquals(3, echo.writeCallsAtClose.getNow(-1L));
    }

    @Test
    void aCloseInTheSameBatchSendsEverythingThenTheFin() throws Exception {
        assertRepliedThenEof(new SplitEcho(true), bytes(5, 0, 30));
    }

    /** Sends {@code message} to a batched server with {@code handler}: the reply is the message, then EOF. */
    private void assertRepliedThenEof(ConnectionHandler handler, byte[] message) throws Exception {
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(BATCHED).handler(handler).start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(message);
            InputStream in = s.getInputStream();
            assertArrayEquals(message, readFully(in, message.length));
            assertEquals(-1, in.read(), "then EOF");
        }
    }

    /** closeWith drops what the socket did not take; what the batch held, the socket would have taken: it goes. */
    @Test
    void anAbruptCloseInTheSameBatchStillSendsWhatTheBatchHeld() throws Exception {
        ConnectionHandler replyThenFail = (connection, data) -> {
            connection.write(data);
            connection.closeWith(new IllegalStateException("done with you"));
        };
        assertRepliedThenEof(replyThenFail, bytes(10, 0, 30));
    }

    /** A TLS failure's alert is written, then the connection fails at once: the alert must still reach the peer. */
    @Test
    void aRefusedTlsHandshakeStillSendsItsAlert() throws Exception {
        TlsTestKit kit = TlsTestKit.get();
        Tracking h = new Tracking();
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(BATCHED).tls(TlsConfig.server(kit.serverContext())).handler(h).start()) {
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            try (SSLSocket s = (SSLSocket) kit.peerClientContext().getSocketFactory()
                    .createSocket(at.getAddress(), at.getPort())) {
                s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                s.setEnabledProtocols(new String[]{"TLSv1.2"});
                s.setEnabledCipherSuites(new String[]{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"}); // refused
                SSLException refused = assertThrows(SSLException.class, s::startHandshake);
                assertTrue(refused.getMessage().contains("alert"), "an alert, not a bare EOF: " + refused);
            }
            assertInstanceOf(SSLHandshakeException.class, h.nextClose().cause());
        }
    }

    /** TLS over batched writes: records wrapped during the batch-end flush (refills) go on in that flush, intact. */
    @Test
    void aTlsEchoOfAMebibyteArrivesIntact() throws Exception {
        TlsTestKit kit = TlsTestKit.get();
        int total = 1 << 20;
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(BATCHED).tls(TlsConfig.server(kit.serverContext())).handler(new Echo()).start()) {
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            try (SSLSocket s = (SSLSocket) kit.peerClientContext().getSocketFactory()
                    .createSocket(at.getAddress(), at.getPort())) {
                s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        for (int pos = 0; pos < total; pos += 10_000) {
                            out.write(bytes(11, pos, Math.min(10_000, total - pos)));
                        }
                        out.flush();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertArrayEquals(bytes(11, 0, total), readFully(s.getInputStream(), total));
                writer.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aCorkStillHoldsWhenTheBatchEnds() throws Exception {
        CompletableFuture<Long> queuedInLaterTask = new CompletableFuture<>();
        byte[] message = bytes(6, 0, 100);
        ConnectionHandler corking = new ConnectionHandler() {
            @Override
            public void onData(Connection connection, ByteBuffer data) {
                connection.cork();
                connection.write(data);
                // tasks run after the batch's end: the cork kept the bytes through it
                connection.reactor().execute(() -> {
                    queuedInLaterTask.complete(connection.queuedBytes());
                    connection.uncork();
                });
            }
        };
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(BATCHED).handler(corking).start();
             Socket s = NetTestKit.connect(server.port())) {
            s.getOutputStream().write(message);
            assertArrayEquals(message, readFully(s.getInputStream(), message.length));
            assertEquals(100, queuedInLaterTask.get(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    @Test
    void writesFromAnotherThreadArriveInOrder() throws Exception {
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        ConnectionHandler h = new ConnectionHandler() {
            @Override
            public void onOpen(Connection connection) {
                opened.complete(connection);
            }

            @Override
            public void onData(Connection connection, ByteBuffer data) {
                data.position(data.limit());
            }
        };
        int parts = 200;
        int size = 997;
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(BATCHED).handler(h).start();
             Socket s = NetTestKit.connect(server.port())) {
            Connection c = opened.get(WAIT_SECONDS, TimeUnit.SECONDS);
            for (int i = 0; i < parts; i++) {
                c.write(bytes(8, (long) i * size, size));
            }
            assertArrayEquals(bytes(8, 0, parts * size), readFully(s.getInputStream(), parts * size));
        }
    }

    /** LEVEL watches EPOLLOUT only while bytes wait for the socket: a held write must not add it. */
    @Test
    void underLevelHeldWritesCostNoEpollCtl() throws Exception {
        ConnectionConfig level = BATCHED.withTrigger(TriggerMode.LEVEL);
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(level).handler(new Echo()).start();
             Socket s = NetTestKit.connect(server.port())) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(1);
            assertEquals(1, in.read());
            long ctlsBefore = loop.reactor.stats().epollCtls();
            for (int i = 0; i < 100; i++) {
                byte[] m = bytes(9, i * 50L, 50);
                out.write(m);
                assertArrayEquals(m, readFully(in, m.length));
            }
            assertEquals(ctlsBefore, loop.reactor.stats().epollCtls(), "epoll_ctl calls over 100 echoes");
        }
    }

    @Test
    void copiesKeepIt() {
        ConnectionConfig c = BATCHED.withReadBudget(3).withReadSize(1000);
        assertTrue(c.batchedWrites());
        assertTrue(c.toString().contains("batchedWrites=true"), c.toString());
        assertFalse(c.withBatchedWrites(false).batchedWrites());
        assertEquals(1000, c.readSize(), "and it keeps the others");
        assertEquals(3, c.withBatchedWrites(false).readBudget());
    }
}
