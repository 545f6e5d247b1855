package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.epoll4j.net.BlockingConnection;
import org.epoll4j.net.BlockingService;
import org.epoll4j.net.HandOffWrites;
import org.epoll4j.net.LoopReads;
import org.epoll4j.net.TcpServer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * One 64-byte echo round trip on loopback through a server on its own reactor thread, the client a blocking
 * {@link Socket} on the benchmark thread: the callback API ({@code CALLBACKS}: the reactor echoes in onData) against
 * the blocking facade ({@code BLOCKING}: a {@link BlockingService} handler, on a virtual thread on Java 21+, reads
 * and writes through {@link BlockingConnection}) and the JDK's own sockets on a virtual thread
 * ({@code JDK_SOCKETS}). The difference is the facade's cost per message: the handler thread's wake-up, and (in
 * {@code BLOCKING} and {@code BLOCKING_HANDOFF}, not {@code BLOCKING_DIRECT_READS}) the hand-off of the bytes the
 * reactor read to it, and (in
 * {@code BLOCKING_HANDOFF} only) of its write back to the reactor. Run with
 * {@code -prof gc} for the allocation per round trip.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class BlockingEchoBenchmark {
    private static final int SIZE = 64;

    /** Which API the server uses. */
    public enum Api {
        /** The reactor echoes in onData. */
        CALLBACKS,
        /**
         * The facade as it is by default: reads take what the reactor buffered, and the handler's thread sends
         * directly while nothing is queued.
         */
        BLOCKING,
        /**
         * The facade with direct reads too ({@link LoopReads#off()}, {@code -Depoll4j.blocking.directReads=true}):
         * the handler's thread recv(2)s into its buffer, parked on EAGAIN until the reactor reports the socket
         * readable.
         */
        BLOCKING_DIRECT_READS,
        /**
         * The facade with every write handed to the reactor ({@link HandOffWrites}) and every read taken from what it
         * buffered, as before direct sends.
         */
        BLOCKING_HANDOFF,
        /**
         * No epoll4j: the JDK's own {@link ServerSocket}/{@link Socket} with the echo on a virtual thread (Java 21+;
         * a platform thread on 17), parked and woken by the JDK's poller: the straight-line baseline.
         */
        JDK_SOCKETS
    }

    @Param({"CALLBACKS", "BLOCKING", "BLOCKING_DIRECT_READS", "BLOCKING_HANDOFF", "JDK_SOCKETS"})
    public Api api;

    private Reactor reactor;
    private Thread loop;
    private TcpServer server;
    private ServerSocket jdkServer;
    private Thread jdkHandler;
    private Socket client;
    private OutputStream out;
    private InputStream in;
    private final byte[] message = new byte[SIZE];
    private final byte[] echo = new byte[SIZE];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        if (api == Api.JDK_SOCKETS) {
            setUpJdk();
            return;
        }
        reactor = Reactor.open();
        TcpServer.Builder b = TcpServer.builder(reactor).bind(new InetSocketAddress("127.0.0.1", 0));
        if (api == Api.CALLBACKS) {
            b.handler((c, data) -> c.write(data));
        } else {
            if (api == Api.BLOCKING_HANDOFF) {
                HandOffWrites.on();
            }
            if (api == Api.BLOCKING_DIRECT_READS) {
                LoopReads.off();
            }
            b.handlerFactory(BlockingService.of(c -> {
                byte[] buf = new byte[16 * 1024];
                for (int n; (n = c.read(buf, 0, buf.length)) > 0; ) {
                    c.write(buf, 0, n);
                }
            }));
        }
        server = b.start();
        loop = reactor.start();
        client = new Socket();
        client.setTcpNoDelay(true);
        client.connect(server.localAddress(), 10_000);
        out = client.getOutputStream();
        in = client.getInputStream();
        echo64(); // the view exists: the switch is not needed for later ones
        HandOffWrites.off();
        LoopReads.on();
        for (int i = 0; i < 1000; i++) { // the handler's thread started and warm
            echo64();
        }
    }

    private void setUpJdk() throws Exception {
        jdkServer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Runnable echo = () -> {
            try (Socket s = jdkServer.accept()) {
                s.setTcpNoDelay(true);
                InputStream sin = s.getInputStream();
                OutputStream sout = s.getOutputStream();
                byte[] buf = new byte[16 * 1024];
                for (int n; (n = sin.read(buf)) > 0; ) {
                    sout.write(buf, 0, n);
                }
            } catch (IOException closed) {
                // the trial ended
            }
        };
        jdkHandler = virtualThread(echo);
        jdkHandler.start();
        client = new Socket();
        client.setTcpNoDelay(true);
        client.connect(jdkServer.getLocalSocketAddress(), 10_000);
        out = client.getOutputStream();
        in = client.getInputStream();
        for (int i = 0; i < 1000; i++) {
            echo64();
        }
    }

    /** A virtual thread on Java 21+ (by reflection: this compiles for 17), else a platform thread. */
    private static Thread virtualThread(Runnable task) {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            return (Thread) Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class)
                    .invoke(builder, task);
        } catch (ReflectiveOperationException before21) {
            Thread t = new Thread(task, "jdk-echo");
            t.setDaemon(true);
            return t;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        client.close();
        if (api == Api.JDK_SOCKETS) {
            jdkServer.close();
            jdkHandler.join(10_000);
            return;
        }
        server.close();
        reactor.close();
        loop.join(10_000);
    }

    /** Send 64 B, wait for the server's echo of them. */
    @Benchmark
    public int echo64() throws IOException {
        out.write(message);
        int got = 0;
        while (got < SIZE) {
            int n = in.read(echo, got, SIZE - got);
            if (n < 0) {
                throw new IOException("server closed after " + got + " bytes");
            }
            got += n;
        }
        return got;
    }
}
