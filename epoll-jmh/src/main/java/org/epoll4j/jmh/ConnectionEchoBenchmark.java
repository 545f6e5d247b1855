package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.Sockets;
import org.epoll4j.net.ConnectionConfig;
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

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One 64-byte echo through a {@link TcpServer} connection on loopback, everything on the benchmark thread: the
 * client writes with a raw send, the reactor polls until the server has read and echoed, the client reads the echo
 * back. Shows the net layer's per-message cost and, with {@code -prof gc}, that the read/echo path allocates nothing,
 * with batched writes too.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ConnectionEchoBenchmark {
    private static final int SIZE = 64;

    @Param({"LEVEL", "EDGE"})
    public TriggerMode trigger;

    /** With {@link ConnectionConfig#withBatchedWrites}: the echo is held until the batch ends, then sent. */
    @Param({"false", "true"})
    public boolean batched;

    private Reactor reactor;
    private TcpServer server;
    private int client;
    private ByteBuffer buf;
    private long addr;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        reactor = Reactor.open();
        server = TcpServer.builder(reactor)
                .config(ConnectionConfig.defaults().withTrigger(trigger).withBatchedWrites(batched))
                .handler((c, data) -> c.write(data))
                .start();
        InetSocketAddress remote = new InetSocketAddress("127.0.0.1", server.port());
        client = Sockets.open(remote);
        Sockets.connect(client, remote);
        while (server.activeConnections() == 0) {
            reactor.poll(Duration.ofMillis(10));
        }
        Sockets.setIntOption(client, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, 1, "TCP_NODELAY");
        buf = NativeMemory.allocate(SIZE);
        addr = NativeMemory.address(buf);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        LibC.close(client);
        server.close();
        reactor.close();
    }

    /** Send 64 B, let the reactor echo them, read 64 B back. */
    @Benchmark
    public long echo64() throws Exception {
        if (LibC.send(client, addr, SIZE, LibC.MSG_NOSIGNAL) != SIZE) {
            throw new IllegalStateException("client send: errno " + LibC.errno());
        }
        long got = 0;
        while (got < SIZE) {
            reactor.poll(Duration.ZERO);
            long n = LibC.read(client, addr + got, SIZE - got);
            if (n > 0) {
                got += n;
            } else if (n == 0 || LibC.errno() != 11) {
                throw new IllegalStateException("client read: " + n + " errno " + LibC.errno());
            }
        }
        return got;
    }
}
