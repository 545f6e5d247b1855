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

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * A line-based broadcast chat for {@code nc} and {@code telnet}: every line a user types goes to everyone else,
 * prefixed with the sender's nickname. Commands: {@code /nick NAME}, {@code /who}, {@code /quit}.
 *
 * <p>With {@code --reactors N} users on different reactor threads talk to each other through one thread-safe
 * {@link ChatRoom}. A line longer than {@code --max-line} is answered with an error and the connection is closed.
 * A user who stops reading is disconnected once more than {@code --max-queue} bytes wait for it, and the others are
 * told; nobody else waits for it.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Line-based broadcast chat (try it with nc 127.0.0.1 7008 in two terminals).")
public final class ChatServer implements Callable<Integer> {
    static final int DEFAULT_PORT = 7008;

    @Mixin
    ServerOptions options;

    @Option(names = "--max-line", paramLabel = "BYTES",
            description = "longest line accepted, without the newline; a longer one closes the connection "
                    + "(default: ${DEFAULT-VALUE})", defaultValue = "1024")
    int maxLine;

    @Option(names = "--max-queue", paramLabel = "BYTES",
            description = "most bytes queued for a user who does not read before it is disconnected "
                    + "(default: ${DEFAULT-VALUE})", defaultValue = "65536")
    int maxQueue;

    @Spec
    CommandSpec spec;

    /** Counted down by tests to stop the server without a signal. */
    CountDownLatch stop;

    /** The room, for tests: who is connected, on which reactor. */
    final ChatRoom room = new ChatRoom();

    @Override
    public Integer call() throws Exception {
        options.validate(spec);
        if (maxLine < 1 || maxLine > 1 << 20) {
            throw new ParameterException(spec.commandLine(), "--max-line must be 1..1048576: " + maxLine);
        }
        if (maxQueue < 2 || maxQueue > 1 << 30) {
            throw new ParameterException(spec.commandLine(), "--max-queue must be 2..1073741824: " + maxQueue);
        }
        // High watermark = the bound (crossing it disconnects); the low one only matters for resuming, never here.
        var config = options.config().withWriteWatermarks(maxQueue / 2, maxQueue);
        return ServerRunner.serve("chat", options, DEFAULT_PORT,
                b -> b.config(config).handlerFactory(() -> new ChatSession(room, maxLine)),
                room::summary, spec.commandLine().getOut(), spec.commandLine().getErr(), stop);
    }
}
