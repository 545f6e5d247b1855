package org.epoll4j.examples;

import org.epoll4j.TriggerMode;
import org.epoll4j.net.ConnectionConfig;
import picocli.CommandLine.Option;

/** The options every example server takes: where to listen, how many reactors, which trigger mode. */
public final class ServerOptions {
    @Option(names = "--host", paramLabel = "HOST", description = "address to bind (default: ${DEFAULT-VALUE})",
            defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--port", paramLabel = "PORT",
            description = "port to listen on (0 = any free port; default: the program's own)")
    Integer port;

    @Option(names = "--reactors", paramLabel = "N",
            description = "reactor threads, each with its own SO_REUSEPORT listener (default: ${DEFAULT-VALUE})",
            defaultValue = "1")
    int reactors;

    @Option(names = "--trigger", paramLabel = "MODE", description = "edge or level (default: edge)",
            defaultValue = "edge", converter = TriggerConverter.class)
    TriggerMode trigger;

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
    }

    /** The port to use: {@code --port}, else the program's default. */
    int port(int programDefault) {
        return port != null ? port : programDefault;
    }

    /** Connection settings with the chosen trigger mode. */
    public ConnectionConfig config() {
        return ConnectionConfig.defaults().withTrigger(trigger);
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
}
