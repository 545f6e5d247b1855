package org.epoll4j.examples.resp;

import org.epoll4j.examples.Main;
import org.epoll4j.examples.ServerOptions;
import org.epoll4j.examples.ServerRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory key-value server speaking the Redis protocol (RESP2, RESP3 and inline commands) to redis-cli,
 * redis-benchmark and any Redis client: strings, counters, lists (with blocking pops), hashes and sets, with expiry,
 * 16 databases, transactions, pub/sub, AUTH and --maxmemory eviction. Everything is shared by all reactors behind
 * one lock, taken once per batch of pipelined requests.
 */
@Command(name = "resp", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"An in-memory key-value server speaking the Redis protocol (RESP2 and inline).",
                "Try it with redis-cli -p 6380, or redis-benchmark -p 6380 -t ping,set,get -q."})
public final class RespServer implements Callable<Integer> {
    static final int DEFAULT_PORT = 6380;
    /** Redis's client-query-buffer-limit default: the most a connection may buffer of an incomplete request. */
    static final long DEFAULT_QUERY_BUFFER_LIMIT = 1024L * 1024 * 1024;

    @Mixin
    ServerOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--query-buffer-limit", paramLabel = "BYTES",
            description = "most bytes of one incomplete request a connection may hold (default: ${DEFAULT-VALUE})",
            defaultValue = "1073741824")
    long queryBufferLimit = DEFAULT_QUERY_BUFFER_LIMIT;

    @Option(names = "--requirepass", paramLabel = "PASSWORD",
            description = "clients must AUTH with this password first (default: none)")
    String requirepass = "";

    @Option(names = "--databases", paramLabel = "N", description = "databases for SELECT (default: ${DEFAULT-VALUE})",
            defaultValue = "16")
    int databases = 16;

    @Option(names = "--maxmemory", paramLabel = "BYTES",
            description = "limit on the estimated bytes of keys and values, e.g. 100mb (default: 0, no limit)")
    String maxmemory = "0";

    @Option(names = "--maxmemory-policy", paramLabel = "POLICY",
            description = "what to do over --maxmemory: noeviction (OOM errors), allkeys-lru, allkeys-random, "
                    + "volatile-lru, volatile-random, volatile-ttl (default: ${DEFAULT-VALUE})",
            defaultValue = "noeviction")
    String maxmemoryPolicy = "noeviction";

    @Option(names = "--pubsub-output-limit", paramLabel = "HARD,SOFT,SECONDS",
            description = "disconnect a subscriber whose unsent output exceeds HARD bytes, or SOFT bytes for SECONDS "
                    + "(Redis's client-output-buffer-limit pubsub; default: ${DEFAULT-VALUE})",
            defaultValue = "32mb,8mb,60")
    String pubsubLimit = "32mb,8mb,60";

    /** Counted down by tests to stop the server without a signal. */
    CountDownLatch stop;

    /** Shared state, made when the server starts. */
    Store store;
    /** Database 0 (tests). */
    Keyspace keyspace;
    private final AtomicLong buffered = new AtomicLong();
    private final List<RespHandler> handlers = new CopyOnWriteArrayList<>();

    /** Bytes of input buffer all connections hold right now (tests: a declared length costs nothing up front). */
    long bufferedBytes() {
        return buffered.get();
    }

    /** Connection.write calls made by all reactors; exact once the server has stopped. */
    long writes() {
        return handlers.stream().mapToLong(RespHandler::writes).sum();
    }

    /** Requests run by all reactors; exact once the server has stopped. */
    long commands() {
        return handlers.stream().mapToLong(RespHandler::commands).sum();
    }

    /** The most reply bytes one connection had queued after a batch; exact once the server has stopped. */
    long maxQueued() {
        return handlers.stream().mapToLong(RespHandler::maxQueued).max().orElse(0);
    }

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
        if (queryBufferLimit < 1024) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--query-buffer-limit must be at least 1024: " + queryBufferLimit);
        }
        if (databases < 1 || databases > 1_000_000) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--databases must be between 1 and 1000000: " + databases);
        }
        Config config = new Config(databases);
        config.requirepass = requirepass;
        String[] limits = pubsubLimit.split(",");
        String err = config.set("maxmemory", maxmemory);
        if (err == null) {
            err = config.set("maxmemory-policy", maxmemoryPolicy);
        }
        if (err == null) {
            err = limits.length != 3 ? "--pubsub-output-limit must be HARD,SOFT,SECONDS: " + pubsubLimit
                    : config.set("client-output-buffer-limit", "pubsub " + String.join(" ", limits));
        }
        if (err != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), err);
        }
        store = new Store(config);
        keyspace = store.dbs[0];
        ExpirySweeper sweeper = new ExpirySweeper(store);
        return ServerRunner.serve("resp", options, DEFAULT_PORT, b -> b.handlerPerReactor(reactor -> {
            sweeper.use(reactor);
            RespHandler h = new RespHandler(store, buffered, queryBufferLimit);
            handlers.add(h);
            return h;
        }), () -> {
            // Read after the reactors' threads ended: their plain counters are visible by then.
            long connections = handlers.stream().mapToLong(RespHandler::connections).sum();
            long commands = handlers.stream().mapToLong(RespHandler::commands).sum();
            long errors = handlers.stream().mapToLong(RespHandler::protocolErrors).sum();
            long waits = handlers.stream().mapToLong(RespHandler::lockWaits).sum();
            return connections + " connections, " + commands + " commands, " + errors + " protocol errors, "
                    + store.keys() + " keys, " + waits + " keyspace lock waits";
        }, spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
    }
}
