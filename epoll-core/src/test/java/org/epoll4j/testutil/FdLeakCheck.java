package org.epoll4j.testutil;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Fails a test class that leaves more file descriptors open than it found: counts the entries of
 * {@code /proc/self/fd} before the class's first test and after its last.
 *
 * <p>Test classes use {@code @ExtendWith(FdLeakCheck.class)}. Descriptors the JVM opens lazily and keeps
 * for its lifetime (see {@link #isIgnored}) are not counted, so the first class that touches a new library is not
 * blamed for it. A failure lists the new descriptors with their {@code /proc/self/fd} link targets.
 */
public final class FdLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static final Path FD_DIR = Path.of("/proc/self/fd");
    private static final Map<String, Map<Integer, String>> BEFORE = new ConcurrentHashMap<>();

    static {
        // The JDK's NIO opens a socket on first use and keeps it for the life of the JVM (the "pre-close" socket
        // that closing a channel with a blocked reader dup2()s over its fd). Open it now, before any class takes
        // its baseline, or whichever class first touches a SocketChannel would be blamed for it.
        try {
            java.nio.channels.SocketChannel.open().close();
            java.nio.channels.ServerSocketChannel.open().close();
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            pipe.sink().close();
            pipe.source().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        BEFORE.put(context.getUniqueId(), openFds());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        check(context.getDisplayName(), BEFORE.remove(context.getUniqueId()));
    }

    /** The process's open fds (number → link target), less those the JVM keeps for class loading. */
    public static Map<Integer, String> openFds() {
        Map<Integer, String> fds = new TreeMap<>();
        try (Stream<Path> entries = Files.list(FD_DIR)) {
            entries.forEach(p -> {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    return; // closed meanwhile (e.g. the directory handle of this very listing)
                }
                if (!isIgnored(target)) {
                    fds.put(Integer.parseInt(p.getFileName().toString()), target);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return fds;
    }

    /**
     * Descriptors the JVM and its native libraries open once and keep for the life of the process: jars and shared
     * libraries (class loading), the JDK's own files, the entropy devices (SecureRandom seeding), libffi's deleted
     * trampoline file (JNA callbacks), the directory handle of this very listing, and the JVM's container support
     * reading cgroup and proc files (its own, opened and closed on the JVM's schedule, e.g. memory.stat). A jar may
     * be deleted under the JVM (surefire's booter jar, once the fork started), which the link shows as "(deleted)".
     */
    private static boolean isIgnored(String target) {
        return target.endsWith(".jar") || target.endsWith(".jar (deleted)") || target.endsWith(".so") || target.contains(".so.")
                || target.startsWith(System.getProperty("java.home")) || target.matches("/proc/\\d+/fd")
                || target.matches("/dev/u?random") || target.matches(".*/ffi\\w+ \\(deleted\\)")
                || target.startsWith("/sys/fs/cgroup/") || target.startsWith("/proc/");
    }

    private static void check(String what, Map<Integer, String> before) {
        if (before == null) {
            return;
        }
        Map<Integer, String> after = openFds();
        if (after.size() > before.size()) {
            Map<Integer, String> added = new TreeMap<>(after);
            added.keySet().removeAll(before.keySet());
            throw new AssertionError(what + " leaked " + (after.size() - before.size()) + " file descriptor(s): "
                    + before.size() + " open before, " + after.size() + " after; new: " + added);
        }
    }
}
