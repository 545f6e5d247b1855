package org.epoll4j.net;

import java.io.IOException;

/** The cause a connection closes with when an idle timeout expires and the handler keeps the default action. */
public class IdleTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;
    private final IdleState state;

    /**
     * @param state   which timeout expired
     * @param message how long the connection was idle
     */
    public IdleTimeoutException(IdleState state, String message) {
        super(message);
        this.state = state;
    }

    /** Which timeout expired. */
    public IdleState state() {
        return state;
    }
}
