package org.epoll4j;

/** Extra epoll flags for a registration. */
public enum RegistrationOption {
    /**
     * EPOLLONESHOT: after one event the registration is disarmed until {@link Registration#rearm()} (or a change of
     * interest) re-enables it. Useful when another thread finishes the work.
     */
    ONESHOT,
    /**
     * EPOLLEXCLUSIVE: when several epoll instances watch the same fd (say a listener shared by reactors), wake only
     * one of them. Only allowed at registration; its interest can then not be modified (a kernel rule).
     */
    EXCLUSIVE
}
