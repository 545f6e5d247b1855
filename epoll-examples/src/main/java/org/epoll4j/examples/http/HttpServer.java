package org.epoll4j.examples.http;

import org.epoll4j.examples.VersionProvider;
import org.epoll4j.examples.ServerOptions;
import org.epoll4j.examples.ServerRunner;
import org.epoll4j.examples.TlsOptions;
import org.epoll4j.net.BlockingService;
import org.epoll4j.net.TlsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/1.1 server: {@code Hello, World!} on {@code /_epoll4j/plaintext}, {@code POST /_epoll4j/echo} returns the
 * request body (also on {@code /}, {@code /plaintext} and {@code /echo} without {@code --root}), and with
 * {@code --root} static files sent with sendfile(2): ranges, ETags, conditional GET, precompressed {@code .gz}
 * siblings. Keep-alive, pipelining, HTTP/1.0, chunked request bodies; strict parsing with bounded memory per
 * connection. With {@code --blocking} the same protocol runs as straight-line code on a thread per connection
 * ({@link BlockingHttp}).
 */
@Command(name = "http", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"HTTP/1.1 server. Without --root: Hello, World! on /, /plaintext and /_epoll4j/plaintext, "
                + "POST /echo and /_epoll4j/echo return the body. With --root DIR: the files under DIR (ranges, "
                + "ETag/If-None-Match, If-Modified-Since, FILE.gz served to gzip clients, 301 for a directory "
                + "without its slash, 403 for one without index.html); the built-ins stay under /_epoll4j/.",
                "Try it: curl -v http://127.0.0.1:8080/ or wrk -c100 -d10s http://127.0.0.1:8080/plaintext"})
public final class HttpServer implements Callable<Integer> {
    static final int DEFAULT_PORT = 8080;

    @Mixin
    ServerOptions options;

    @Mixin
    TlsOptions tlsOptions;

    @Spec
    CommandSpec spec;

    @Option(names = "--root", paramLabel = "DIR", description = "serve the files under DIR (default: none)")
    Path root;

    @Option(names = "--max-header-bytes", paramLabel = "N", defaultValue = "8192",
            description = "largest request head; also the most a connection buffers (default: ${DEFAULT-VALUE})")
    int maxHeaderBytes;

    @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "1048576",
            description = "largest request body accepted (default: ${DEFAULT-VALUE})")
    long maxBodyBytes;

    @Option(names = "--header-timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "time allowed for a complete request head (default: ${DEFAULT-VALUE})")
    long headerTimeoutMs;

    @Option(names = "--idle-timeout-ms", paramLabel = "MS", defaultValue = "60000",
            description = "close a connection this long after its last read, unless its output is still moving "
                    + "(default: ${DEFAULT-VALUE})")
    long idleTimeoutMs;

    @Option(names = "--access-log", paramLabel = "FILE|-",
            description = "log each response in the Common Log Format to FILE (appended) or - (standard output); "
                    + "default: no log")
    String accessLog;

    @Option(names = "--blocking", description = "serve each connection with straight-line blocking code on a thread "
            + "of its own (virtual on Java 21+, platform on 17) through BlockingConnection; same protocol and options")
    boolean blocking;

    @Option(names = "--on-reactor", description = "with --blocking: run each connection's virtual thread on the "
            + "reactor's own thread (Java 24+; the examples jar opens java.lang for it)")
    boolean onReactor;

    /** Counted down by tests to stop the server without a signal. */
    CountDownLatch stop;

    /** One per reactor, for the summary and for tests. */
    final List<HttpHandler> handlers = new CopyOnWriteArrayList<>();
    /** The {@code --blocking} server, for tests. */
    volatile BlockingHttp blockingHttp;

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
        if (maxHeaderBytes < 64 || maxHeaderBytes > 1 << 20) {
            throw new ParameterException(spec.commandLine(), "--max-header-bytes must be 64..1048576: "
                    + maxHeaderBytes);
        }
        if (maxBodyBytes < 0) {
            throw new ParameterException(spec.commandLine(), "--max-body-bytes must be >= 0: " + maxBodyBytes);
        }
        if (headerTimeoutMs < 1 || idleTimeoutMs < 1) {
            throw new ParameterException(spec.commandLine(), "timeouts must be >= 1 ms: --header-timeout-ms="
                    + headerTimeoutMs + ", --idle-timeout-ms=" + idleTimeoutMs);
        }
        StaticFiles files = null;
        if (root != null) {
            try {
                files = new StaticFiles(root);
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "--root must be a readable directory: " + root
                        + " (" + e + ")");
            }
        }
        AccessLog log = null;
        if (accessLog != null) {
            try {
                log = AccessLog.open(accessLog);
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "--access-log: cannot open '" + accessLog + "' ("
                        + e.getMessage() + ")");
            }
        }
        HttpSettings settings = new HttpSettings(maxHeaderBytes, maxBodyBytes,
                TimeUnit.MILLISECONDS.toNanos(headerTimeoutMs), TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs), files,
                log);
        TlsConfig tls = tlsOptions.serverConfig(spec, "http/1.1");
        try (AccessLog closeLog = log) {
            return serve(settings, tls);
        }
    }

    private int serve(HttpSettings settings, TlsConfig tls) throws InterruptedException {
        if (onReactor && !blocking) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--on-reactor needs --blocking");
        }
        if (blocking) {
            BlockingHttp http = new BlockingHttp(settings);
            BlockingService service = org.epoll4j.examples.ServerOptions.blockingService(http::serve, onReactor,
                    spec);
            blockingHttp = http;
            return ServerRunner.serve("http", options, DEFAULT_PORT, b -> {
                if (tls != null) {
                    b.tls(tls);
                }
                b.handlerFactory(service);
            }, () -> http.connections.sum() + " connections, " + http.requests.sum() + " requests, "
                    + http.errors.sum() + " errors", spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
        }
        return ServerRunner.serve("http", options, DEFAULT_PORT, b -> {
            if (tls != null) {
                b.tls(tls);
            }
            b.handlerPerReactor(reactor -> {
                HttpHandler h = new HttpHandler(settings);
                handlers.add(h);
                return h;
            });
        }, () -> {
            // Read after the reactors' threads ended: their plain counters are visible by then.
            long connections = handlers.stream().mapToLong(h -> h.connections).sum();
            long requests = handlers.stream().mapToLong(h -> h.requests).sum();
            long errors = handlers.stream().mapToLong(h -> h.errors).sum();
            return connections + " connections, " + requests + " requests, " + errors + " errors";
        }, spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
    }
}
