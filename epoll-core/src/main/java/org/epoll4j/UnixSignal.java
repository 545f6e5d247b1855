package org.epoll4j;

import java.util.Locale;

/**
 * The POSIX signals a {@link SignalWatcher} can watch. The signals the JVM itself uses are not constants here, and
 * {@link #of(String)} refuses them with the reason:
 * <ul>
 *   <li>{@code SIGSEGV}, {@code SIGBUS}, {@code SIGFPE}, {@code SIGILL}, {@code SIGTRAP}: HotSpot turns them into
 *       {@code NullPointerException}, {@code ArithmeticException}, safepoint polls and crash reports;</li>
 *   <li>{@code SIGQUIT}: the JVM's thread dump ({@code kill -3});</li>
 *   <li>{@code SIGUSR2}: HotSpot's thread suspend/resume signal;</li>
 *   <li>{@code SIGPIPE}, {@code SIGXFSZ}: the JVM ignores them so that writes fail with {@code EPIPE}/{@code EFBIG}
 *       instead of killing the process;</li>
 *   <li>{@code SIGKILL}, {@code SIGSTOP}: no process can catch them.</li>
 * </ul>
 * {@link #HUP}, {@link #INT} and {@link #TERM} are here, but a watcher of one of them replaces the JVM's own handler,
 * which runs the shutdown hooks: while it is open, that signal no longer ends the process unless the listener
 * does so.
 */
public enum UnixSignal {
    /** Hang-up: by convention, reload configuration. Replaces the JVM's shutdown trigger while watched. */
    HUP(1),
    /** Interrupt (Ctrl-C). Replaces the JVM's shutdown trigger while watched. */
    INT(2),
    /** User-defined signal 1. */
    USR1(10),
    /** Alarm clock. */
    ALRM(14),
    /** Termination request: by convention, shut down gracefully. Replaces the JVM's shutdown trigger while watched. */
    TERM(15),
    /** A child process stopped or exited (processes started with {@code ChildProcess} need no handler for it). */
    CHLD(17),
    /** Continued after a stop. */
    CONT(18),
    /** Terminal stop (Ctrl-Z). */
    TSTP(20),
    /** Background read from the terminal. */
    TTIN(21),
    /** Background write to the terminal. */
    TTOU(22),
    /** Urgent data on a socket. */
    URG(23),
    /** CPU time limit exceeded. */
    XCPU(24),
    /** Virtual timer expired. */
    VTALRM(26),
    /** Profiling timer expired. */
    PROF(27),
    /** Terminal window size changed. */
    WINCH(28),
    /** I/O possible. */
    IO(29),
    /** Power failure. */
    PWR(30),
    /** Bad system call. */
    SYS(31);

    private final int number;

    UnixSignal(int number) {
        this.number = number;
    }

    /** @return the signal's number on Linux (x86_64 and aarch64 agree on these) */
    public int number() {
        return number;
    }

    /** @return the name with its {@code SIG} prefix, e.g. {@code SIGTERM} */
    public String signalName() {
        return "SIG" + name();
    }

    /**
     * Looks a signal up by name, with or without its {@code SIG} prefix, in any case.
     *
     * @param name e.g. {@code "TERM"}, {@code "SIGusr1"}
     * @return the signal
     * @throws IllegalArgumentException naming why for a signal the JVM uses or no process can catch, and for an
     *                                  unknown name
     */
    public static UnixSignal of(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.startsWith("SIG")) {
            n = n.substring(3);
        }
        switch (n) {
            case "SEGV": case "BUS": case "FPE": case "ILL": case "TRAP":
                throw new IllegalArgumentException("SIG" + n + " is the JVM's own (implicit exceptions, safepoints, "
                        + "crash reports): it cannot be watched");
            case "QUIT":
                throw new IllegalArgumentException("SIGQUIT is the JVM's thread-dump signal: it cannot be watched");
            case "USR2":
                throw new IllegalArgumentException("SIGUSR2 is HotSpot's thread suspend/resume signal: it cannot be "
                        + "watched (use SIGUSR1)");
            case "PIPE": case "XFSZ":
                throw new IllegalArgumentException("SIG" + n + " is ignored by the JVM so that writes fail with an "
                        + "error instead of killing the process: it cannot be watched");
            case "KILL": case "STOP":
                throw new IllegalArgumentException("SIG" + n + " cannot be caught by any process");
            default:
                for (UnixSignal s : values()) {
                    if (s.name().equals(n)) {
                        return s;
                    }
                }
                throw new IllegalArgumentException("unknown signal: " + name);
        }
    }
}
