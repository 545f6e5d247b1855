package org.epoll4j.examples;

import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * The seed article's echo server rebuilt on epoll4j: every byte read is written back. Nothing is lost when a
 * client reads slowly: writes the socket does not take are queued, and reading from a client pauses while its
 * queue is above the high watermark.
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

    @Spec
    CommandSpec spec;

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

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
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
}
