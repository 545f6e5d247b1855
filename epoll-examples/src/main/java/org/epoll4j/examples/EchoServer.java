package org.epoll4j.examples;

import org.epoll4j.net.BlockingConnection;
import org.epoll4j.net.BlockingService;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * The seed article's echo server rebuilt on epoll4j: every byte read is written back. Nothing is lost when a
 * client reads slowly: writes the socket does not take are queued, and reading from a client pauses while its
 * queue is above the high watermark.
 *
 * <p>With {@code --blocking} the same server is written in straight-line code: one thread per connection (virtual on
 * Java 21+) reads and writes through a {@link BlockingConnection}, and a client that does not read blocks its
 * writer (the facade's backpressure) instead of pausing a callback.
 */
@Command(name = "echo", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Echoes every byte back (try it with nc 127.0.0.1 7007; with --keystore or "
                + "--tls-cert/--tls-key: openssl s_client -connect 127.0.0.1:7007).")
public final class EchoServer implements Callable<Integer> {
    static final int DEFAULT_PORT = 7007;

    @Mixin
    ServerOptions options;

    @Mixin
    TlsOptions tlsOptions;

    @Option(names = "--blocking", description = "serve each connection with straight-line blocking code on a thread "
            + "of its own (virtual threads on Java 21+, platform threads before) instead of reactor callbacks")
    boolean blocking;

    @Option(names = "--on-reactor", description = "with --blocking: run each connection's virtual thread on the "
            + "reactor's own thread (Java 24+; the examples jar opens java.lang for it): 0.86-0.88x the callbacks' "
            + "messages per second, against 0.63x without")
    boolean onReactor;

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Option(names = "--udp", description = "echo UDP datagrams, each back to its sender "
            + "(try it with nc -u 127.0.0.1 7007), batched with recvmmsg/sendmmsg")
    boolean udp;

    @picocli.CommandLine.Option(names = "--batch", paramLabel = "N", defaultValue = "64",
            description = "with --udp: datagrams per recvmmsg and per sendmmsg, 1..1024 (default: ${DEFAULT-VALUE})")
    int batch;

    /** Counted down by tests to stop the server without a signal. */
    CountDownLatch stop;

    /** Echoes data back; pauses reading from a client that does not read its echoes. One per reactor. */
    static final class EchoHandler implements ConnectionHandler {
        long connections;
        long bytes;

        @Override
        public void onOpen(Connection connection) {
            connections++;
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            bytes += data.remaining();
            connection.write(data);
            if (!connection.isWritable()) {
                connection.pauseReading();
            }
        }

        @Override
        public void onWritabilityChanged(Connection connection, boolean writable) {
            if (writable) {
                connection.resumeReading();
            }
        }
    }

    /** The {@code --blocking} echo: the whole protocol in four lines, on a thread of its own per connection. */
    static final class BlockingEcho {
        final LongAdder connections = new LongAdder();
        final LongAdder bytes = new LongAdder();

        void serve(BlockingConnection connection) throws IOException {
            connections.increment();
            byte[] buf = new byte[16 * 1024];
            for (int n; (n = connection.read(buf, 0, buf.length)) > 0; ) {
                bytes.add(n);
                connection.write(buf, 0, n); // blocks while the client does not read its echoes
            }
        } // returning closes the connection gracefully, as the callback server does on the client's FIN
    }

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
        if (batch < 1 || batch > 1024) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--batch must be 1..1024: " + batch);
        }
        if (udp && blocking) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--udp and --blocking do not mix");
        }
        if (onReactor && !blocking) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--on-reactor needs --blocking");
        }
        if (udp) {
            return UdpEcho.serve(options, batch, spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
        }
        if (blocking) {
            return callBlocking();
        }
        List<EchoHandler> handlers = new CopyOnWriteArrayList<>();
        org.epoll4j.net.TlsConfig tls = tlsOptions.serverConfig(spec);
        return ServerRunner.serve("echo", options, DEFAULT_PORT, b -> {
            if (tls != null) {
                b.tls(tls);
            }
            b.handlerPerReactor(reactor -> {
                EchoHandler h = new EchoHandler();
                handlers.add(h);
                return h;
            });
        }, () -> {
            // Read after the reactors' threads ended: their plain counters are visible by then.
            long connections = handlers.stream().mapToLong(h -> h.connections).sum();
            long bytes = handlers.stream().mapToLong(h -> h.bytes).sum();
            return connections + " connections, " + bytes + " bytes echoed";
        }, spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
    }

    private int callBlocking() throws Exception {
        BlockingEcho echo = new BlockingEcho();
        BlockingService service = ServerOptions.blockingService(echo::serve, onReactor, spec);
        org.epoll4j.net.TlsConfig tls = tlsOptions.serverConfig(spec);
        return ServerRunner.serve("echo", options, DEFAULT_PORT, b -> {
            if (tls != null) {
                b.tls(tls);
            }
            b.handlerFactory(service);
        }, () -> echo.connections.sum() + " connections, " + echo.bytes.sum() + " bytes echoed",
                spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
    }
}
