package org.epoll4j.examples.chat;

import org.epoll4j.examples.VersionProvider;
import org.epoll4j.examples.ServerOptions;
import org.epoll4j.examples.ServerRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import org.epoll4j.net.SockOpt;
import org.epoll4j.net.SockOpts;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * A line-based broadcast chat for {@code nc} and {@code telnet}: every line a user types goes to everyone else,
 * prefixed with the sender's nickname. Commands: {@code /nick NAME}, {@code /who}, {@code /quit}.
 *
 * <p>With {@code --reactors N} users on different reactor threads talk to each other through one thread-safe
 * {@link ChatRoom}. A line longer than {@code --max-line} is answered with an error and dropped. A user sending more
 * than {@code --flood-rate} lines a second (beyond a burst of {@code --flood-burst}) is slowed down: its reading is
 * paused until its budget refills, and it is told. A user who stops reading is disconnected once more than
 * {@code --max-queue} bytes wait for it (the socket's send buffer is bounded to the same size, so the kernel does not
 * hold megabytes more), and the others are told; nobody else waits for it.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Line-based broadcast chat (try it with nc 127.0.0.1 7008 in two terminals).",
                "Commands (any case): /nick NAME, /who, /quit. Per-user flood control, a queue bound for users who "
                        + "do not read, an idle timeout and a user cap."})
public final class ChatServer implements Callable<Integer> {
    static final int DEFAULT_PORT = 7008;

    @Mixin
    ServerOptions options;

    @Option(names = "--max-line", paramLabel = "BYTES",
            description = "longest line accepted, without the newline; a longer one is dropped with an error "
                    + "(default: ${DEFAULT-VALUE})", defaultValue = "1024")
    int maxLine;

    @Option(names = "--flood-rate", paramLabel = "LINES",
            description = "lines a user may send per second on average; a faster user's reading is paused until "
                    + "its budget refills, and it is warned (0 = no limit; default: ${DEFAULT-VALUE})",
            defaultValue = "5")
    double floodRate;

    @Option(names = "--flood-burst", paramLabel = "LINES",
            description = "lines a user may send at once before --flood-rate applies (default: ${DEFAULT-VALUE})",
            defaultValue = "10")
    int floodBurst;

    @Option(names = "--max-users", paramLabel = "N",
            description = "most users at once; more are told the chat is full (default: ${DEFAULT-VALUE})",
            defaultValue = "1000")
    int maxUsers;

    @Option(names = "--idle-timeout-s", paramLabel = "SECONDS",
            description = "disconnect a user who sent nothing for this long (0 = never; default: ${DEFAULT-VALUE})",
            defaultValue = "3600")
    long idleTimeoutS;

    @Option(names = "--max-queue", paramLabel = "BYTES",
            description = "most bytes queued for a user who does not read before it is disconnected "
                    + "(default: ${DEFAULT-VALUE})", defaultValue = "65536")
    int maxQueue;

    @Spec
    CommandSpec spec;

    /** Counted down by tests to stop the server without a signal. */
    CountDownLatch stop;

    /** The room, for tests: who is connected, on which reactor (made when the server starts). */
    volatile ChatRoom room;

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
        if (maxLine < 1 || maxLine > 1 << 20) {
            throw new ParameterException(spec.commandLine(), "--max-line must be 1..1048576: " + maxLine);
        }
        if (maxQueue < 2 || maxQueue > 1 << 30) {
            throw new ParameterException(spec.commandLine(), "--max-queue must be 2..1073741824: " + maxQueue);
        }
        if (floodRate < 0 || floodRate > 1e6) {
            throw new ParameterException(spec.commandLine(), "--flood-rate must be 0..1000000: " + floodRate);
        }
        if (floodBurst < 1) {
            throw new ParameterException(spec.commandLine(), "--flood-burst must be at least 1: " + floodBurst);
        }
        if (maxUsers < 1) {
            throw new ParameterException(spec.commandLine(), "--max-users must be at least 1: " + maxUsers);
        }
        if (idleTimeoutS < 0) {
            throw new ParameterException(spec.commandLine(), "--idle-timeout-s must be >= 0: " + idleTimeoutS);
        }
        ChatSettings settings = new ChatSettings(floodRate, floodBurst, maxUsers, Duration.ofSeconds(idleTimeoutS));
        ChatRoom room = new ChatRoom(maxUsers);
        this.room = room;
        // High watermark = the bound (crossing it disconnects); the low one only matters for resuming, never here.
        var config = options.config().withWriteWatermarks(maxQueue / 2, maxQueue)
                .withIdleTimeouts(settings.idleTimeout(), Duration.ZERO, Duration.ZERO);
        // The kernel's send buffer counts too: ChatSession adds its unsent bytes (SIOCOUTQ) to the queue once the
        // queue is in use. Until then the kernel holds at most its buffer, so that buffer stays within the bound:
        // unbounded, it autotunes up to megabytes on loopback. Linux doubles the value set. TCP_NOTSENT_LOWAT
        // caps the unsent part of that buffer whatever its size.
        SockOpts child = SockOpts.empty().with(SockOpt.TCP_NODELAY, true)
                .with(SockOpt.SO_SNDBUF, Math.max(maxQueue / 2, 1))
                .with(SockOpt.TCP_NOTSENT_LOWAT, Math.max(maxQueue / 4, 1));
        return ServerRunner.serve("chat", options, DEFAULT_PORT,
                b -> b.config(config).childOptions(child)
                        .handlerFactory(() -> new ChatSession(room, maxLine, settings)),
                room::summary, spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
    }
}
