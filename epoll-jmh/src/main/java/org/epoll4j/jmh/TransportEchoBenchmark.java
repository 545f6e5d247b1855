package org.epoll4j.jmh;

import org.epoll4j.jmh.peers.EchoPeer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * Multi-connection echo: {@value #CONNS} loopback connections to the transport's echo server (own event-loop thread,
 * this JVM); one invocation writes 64 B on every connection, then reads every echo back, so the server sees up to
 * {@value #CONNS} connections ready at once. The score is messages per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TransportEchoBenchmark {
    static final int CONNS = 50;
    private static final int SIZE = TransportPingPongBenchmark.SIZE;

    @Param({"EPOLL4J", "NETTY", "NIO"})
    public EchoPeer.Transport transport;

    private EchoPeer server;
    private final SocketChannel[] clients = new SocketChannel[CONNS];
    private final ByteBuffer out = ByteBuffer.allocateDirect(SIZE);
    private final ByteBuffer in = ByteBuffer.allocateDirect(SIZE);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        server = transport.start(0);
        for (int i = 0; i < CONNS; i++) {
            clients[i] = TransportPingPongBenchmark.connect(server.port());
        }
        echoAll();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        for (SocketChannel ch : clients) {
            if (ch != null) {
                ch.close();
            }
        }
        server.close();
    }

    /** One 64 B message out on every connection, then every echo in. */
    @Benchmark
    @OperationsPerInvocation(CONNS)
    public int echoAll() throws IOException {
        for (SocketChannel ch : clients) {
            out.clear();
            while (out.hasRemaining()) {
                ch.write(out);
            }
        }
        for (SocketChannel ch : clients) {
            in.clear();
            while (in.hasRemaining()) {
                if (ch.read(in) < 0) {
                    throw new IllegalStateException(transport + " closed a connection");
                }
            }
        }
        return in.get(0);
    }
}
