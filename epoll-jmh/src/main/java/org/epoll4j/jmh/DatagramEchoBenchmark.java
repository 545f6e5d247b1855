package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.Sockets;
import org.epoll4j.net.DatagramConfig;
import org.epoll4j.net.DatagramEndpoint;
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
 * The datagram hot path: a raw client socket sends {@code batch} datagrams of {@code size} bytes to a
 * {@link DatagramEndpoint} echo, the reactor is polled on the benchmark thread until it has received them in one
 * recvmmsg and sent the echoes in one sendmmsg, and the client reads them back. The handler copies each payload into
 * the send queue ({@code reply=copy}: {@code reply(d, d.data())}) or replies in place ({@code reply=inPlace}:
 * {@code reply(d)}, the sendmmsg pointing at the receive slots). Time per operation is per batch; with
 * {@code -prof gc} the allocation per operation shows that receive, dispatch and send allocate nothing.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DatagramEchoBenchmark {
    @Param({"1", "32"})
    public int batch;

    @Param({"64", "1200"})
    public int size;

    @Param({"copy", "inPlace"})
    public String reply;

    private Reactor reactor;
    private DatagramEndpoint echo;
    private int client;
    private ByteBuffer buf;
    private long addr;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        reactor = Reactor.open();
        echo = DatagramEndpoint.open(reactor, new InetSocketAddress("127.0.0.1", 0),
                DatagramConfig.builder().batchSize(Math.max(1, batch)).build(),
                "inPlace".equals(reply) ? (ep, d) -> ep.reply(d) : (ep, d) -> ep.reply(d, d.data()));
        InetSocketAddress server = (InetSocketAddress) echo.localAddress();
        client = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
        Sockets.bind(client, new InetSocketAddress("127.0.0.1", 0));
        Sockets.connect(client, server);
        buf = NativeMemory.allocate(size);
        addr = NativeMemory.address(buf);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        LibC.close(client);
        echo.close();
        reactor.close();
    }

    /** {@code batch} datagrams out, echoed by the endpoint, read back. */
    @Benchmark
    public long echo() throws Exception {
        for (int i = 0; i < batch; i++) {
            if (LibC.send(client, addr, size, LibC.MSG_DONTWAIT) != size) {
                throw new IllegalStateException("client send: errno " + LibC.errno());
            }
        }
        int got = 0;
        while (got < batch) {
            reactor.poll(Duration.ZERO);
            while (got < batch) {
                long n = LibC.recv(client, addr, size, LibC.MSG_DONTWAIT);
                if (n == size) {
                    got++;
                } else if (n < 0 && LibC.errno() == 11) {
                    break;
                } else {
                    throw new IllegalStateException("client recv: " + n + " errno " + LibC.errno());
                }
            }
        }
        return got;
    }
}
