package org.epoll4j;

/** Thrown by an operation on a {@link Reactor} that has been closed, and passed to handlers the close ended. */
public class ClosedReactorException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** @param message what was attempted on which reactor */
    public ClosedReactorException(String message) {
        super(message);
    }
}
