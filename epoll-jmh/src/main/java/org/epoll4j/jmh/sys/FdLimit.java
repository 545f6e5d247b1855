package org.epoll4j.jmh.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads this process's RLIMIT_NOFILE, so benchmarks that open thousands of fds can fail early and clearly. */
public final class FdLimit {
    private FdLimit() {
    }

    /** The soft limit on open fds ({@code ulimit -n}), or {@code Long.MAX_VALUE} if unlimited or unreadable. */
    public static long soft() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String v = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unreadable: let the open calls fail with EMFILE instead
        }
        return Long.MAX_VALUE;
    }

    /**
     * Throws unless this process may open {@code needed} fds.
     *
     * @param needed how many fds the caller needs open at once (include some slack for the JVM's own)
     * @param who    what needs them, for the message
     * @throws IllegalStateException naming the limit and the fix
     */
    public static void require(long needed, String who) {
        long soft = soft();
        if (soft < needed) {
            throw new IllegalStateException(who + " needs RLIMIT_NOFILE >= " + needed + " open fds, but this JVM's soft"
                    + " limit (ulimit -n) is " + soft + ": run `ulimit -n 65536` (or at least " + needed
                    + ") in the shell that starts the benchmarks; epoll-jmh/run-all.sh does this");
        }
    }
}
