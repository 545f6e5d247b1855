package org.epoll4j.examples;

import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
import org.epoll4j.net.ConnectionConfig;
import org.epoll4j.net.TcpServerGroup;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The options every example server takes: where to listen, how many reactors, which trigger mode, and how to watch
 * the reactors (log level, blocked-loop watchdog).
 */
public final class ServerOptions {
    /** Held strongly: java.util.logging forgets the level of a logger nobody references. */
    private static Logger epoll4jLogger;

    @Option(names = "--host", paramLabel = "HOST", description = "address to bind (default: ${DEFAULT-VALUE})",
            defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--port", paramLabel = "PORT",
            description = "port to listen on (0 = any free port; default: the program's own)")
    Integer port;

    @Option(names = "--reactors", paramLabel = "N", description = "reactor threads (default: ${DEFAULT-VALUE})",
            defaultValue = "1")
    int reactors;

    @Option(names = "--accept", paramLabel = "HOW", defaultValue = "reuseport", converter = AcceptConverter.class,
            description = "how connections are spread over the reactors: reuseport (a listener per reactor, kernel "
                    + "hash), exclusive (one listener, EPOLLEXCLUSIVE: idle reactors accept) or handoff (the first "
                    + "reactor accepts and hands out round-robin); default: reuseport")
    TcpServerGroup.AcceptStrategy accept;

    @Option(names = "--trigger", paramLabel = "MODE", description = "edge or level (default: edge)",
            defaultValue = "edge", converter = TriggerConverter.class)
    TriggerMode trigger;

    @Option(names = "--log-level", paramLabel = "LEVEL", converter = LogLevelConverter.class,
            description = "log epoll4j to stderr at this level: off, error, warning, info, debug (each connection "
                    + "accepted and closed) or trace (every dispatched event); default: the JVM's logging settings")
    Level logLevel;

    @Option(names = "--blocked-loop-ms", paramLabel = "MS",
            description = "warn, with the loop thread's stack, when a reactor has not returned to epoll_wait within "
                    + "MS milliseconds (the blocked-loop watchdog; default: off)")
    Integer blockedLoopMs;

    /**
     * Rejects out-of-range values with picocli's usage error (exit status 2).
     *
     * @param spec the command being run
     */
    public void validate(picocli.CommandLine.Model.CommandSpec spec) {
        if (port != null && (port < 0 || port > 65535)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--port must be 0..65535: " + port);
        }
        if (reactors < 1 || reactors > 1024) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--reactors must be 1..1024: " + reactors);
        }
        if (blockedLoopMs != null && blockedLoopMs < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--blocked-loop-ms must be at least 1: " + blockedLoopMs);
        }
    }

    /**
     * Applies {@code --log-level}: System.Logger goes to java.util.logging by default, so this sets the level of the
     * {@code org.epoll4j} logger and gives it a one-line console handler. Call before building the reactors (each
     * reactor reads its TRACE level when built, and again whenever it goes to sleep).
     */
    void applyLogging() {
        if (logLevel == null) {
            return;
        }
        Logger l = Logger.getLogger("org.epoll4j");
        l.setLevel(logLevel);
        ConsoleHandler h = new ConsoleHandler(); // stderr
        h.setLevel(logLevel);
        h.setFormatter(new OneLine());
        for (java.util.logging.Handler old : l.getHandlers()) {
            l.removeHandler(old);
        }
        l.addHandler(h);
        l.setUseParentHandlers(false); // else WARNING and above would print twice (root's console handler too)
        epoll4jLogger = l;
    }

    /** Applies {@code --blocked-loop-ms} to each reactor of the group. */
    void reactorSettings(Reactor.Builder b) {
        if (blockedLoopMs != null) {
            b.blockedLoopThreshold(Duration.ofMillis(blockedLoopMs));
        }
    }

    /** {@code HH:MM:SS.mmm LEVEL logger: message}, then the stack trace of a throwable, if any. */
    private static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord r) {
            String logger = r.getLoggerName();
            StringBuilder sb = new StringBuilder().append(LocalTime.now()).append(' ').append(r.getLevel())
                    .append(' ').append(logger.substring(logger.lastIndexOf('.') + 1)).append(": ")
                    .append(formatMessage(r)).append(System.lineSeparator());
            if (r.getThrown() != null) {
                StringWriter w = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(w));
                sb.append(w);
            }
            return sb.toString();
        }
    }

    /** Forces the number of reactors (a program that must aggregate on one thread). */
    public void reactorsOverride(int n) {
        reactors = n;
    }

    /** The port to use: {@code --port}, else the program's default. */
    int port(int programDefault) {
        return port != null ? port : programDefault;
    }

    /** Connection settings with the chosen trigger mode. */
    public ConnectionConfig config() {
        return ConnectionConfig.defaults().withTrigger(trigger);
    }

    /** Parses {@code reuseport}/{@code exclusive}/{@code handoff} in any case. */
    static final class AcceptConverter implements picocli.CommandLine.ITypeConverter<TcpServerGroup.AcceptStrategy> {
        @Override
        public TcpServerGroup.AcceptStrategy convert(String value) {
            try {
                return TcpServerGroup.AcceptStrategy.valueOf(value.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("'" + value
                        + "' is not reuseport, exclusive or handoff");
            }
        }
    }

    /** Parses System.Logger's level names (trace, debug, info, warning, error, off) into java.util.logging's. */
    static final class LogLevelConverter implements picocli.CommandLine.ITypeConverter<Level> {
        @Override
        public Level convert(String value) {
            switch (value.toLowerCase(java.util.Locale.ROOT)) {
                case "off":
                    return Level.OFF;
                case "error":
                    return Level.SEVERE;
                case "warning":
                    return Level.WARNING;
                case "info":
                    return Level.INFO;
                case "debug":
                    return Level.FINE;
                case "trace":
                    return Level.FINER;
                case "all":
                    return Level.ALL;
                default:
                    throw new picocli.CommandLine.TypeConversionException("'" + value
                            + "' is not off, error, warning, info, debug, trace or all");
            }
        }
    }

    /** Parses {@code edge}/{@code level} in any case, with a clear error otherwise. */
    static final class TriggerConverter implements picocli.CommandLine.ITypeConverter<TriggerMode> {
        @Override
        public TriggerMode convert(String value) {
            switch (value.toLowerCase(java.util.Locale.ROOT)) {
                case "edge":
                    return TriggerMode.EDGE;
                case "level":
                    return TriggerMode.LEVEL;
                default:
                    throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not edge or level");
            }
        }
    }

    /**
     * The {@code --blocking} service of an example: {@code handler} on virtual threads of the JDK's scheduler, or with
     * {@code --on-reactor} on their reactor's thread; a JVM that cannot do the latter is a usage error naming why.
     */
    public static org.epoll4j.net.BlockingService blockingService(org.epoll4j.net.BlockingHandler handler,
                                                                   boolean onReactor,
                                                                   picocli.CommandLine.Model.CommandSpec spec) {
        org.epoll4j.net.BlockingService service = org.epoll4j.net.BlockingService.of(handler);
        if (!onReactor) {
            return service;
        }
        try {
            return service.onReactorThread();
        } catch (UnsupportedOperationException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--on-reactor: " + e.getMessage());
        }
    }
}
