package org.epoll4j.net;

/**
 * How a {@link ChildProcess} ended: it exited with a code, or a signal ended it.
 */
public final class ExitStatus {
    private final int code;
    private final int signal;
    private final boolean coreDumped;
    private final boolean timedOut;

    ExitStatus(int code, int signal, boolean coreDumped, boolean timedOut) {
        this.code = code;
        this.signal = signal;
        this.coreDumped = coreDumped;
        this.timedOut = timedOut;
    }

    /** @return whether the process called {@code exit} (or returned from {@code main}) */
    public boolean exited() {
        return signal == 0;
    }

    /** @return the exit code, {@code 0..255}; {@code -1} if a signal ended the process */
    public int code() {
        return signal == 0 ? code : -1;
    }

    /** @return the number of the signal that ended the process; {@code 0} if it exited */
    public int signal() {
        return signal;
    }

    /** @return whether the signal that ended it also dumped core */
    public boolean coreDumped() {
        return coreDumped;
    }

    /** @return whether the builder's timeout expired before the process ended (it was then signalled) */
    public boolean timedOut() {
        return timedOut;
    }

    /** @return whether it exited with code 0 */
    public boolean isSuccess() {
        return signal == 0 && code == 0;
    }

    /** As the shell reports it: the code, or 128 plus the signal. */
    public int shellStatus() {
        return signal == 0 ? code : 128 + signal;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExitStatus && ((ExitStatus) o).code == code && ((ExitStatus) o).signal == signal
                && ((ExitStatus) o).coreDumped == coreDumped && ((ExitStatus) o).timedOut == timedOut;
    }

    @Override
    public int hashCode() {
        return code * 31 + signal;
    }

    @Override
    public String toString() {
        return (signal == 0 ? "exit " + code : "signal " + signal + (coreDumped ? " (core dumped)" : ""))
                + (timedOut ? ", timed out" : "");
    }
}
