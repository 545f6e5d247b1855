/**
 * epoll4j: an embeddable event loop for Linux over epoll.
 *
 * <p>{@code org.epoll4j} holds the reactor (registrations, interest, readiness, timers) and {@code org.epoll4j.net}
 * the non-blocking TCP and Unix-socket connection layer. The JNA binding to libc ({@code org.epoll4j.internal}) is
 * not exported: it is an implementation detail that may change in any release.
 */
@SuppressWarnings("requires-automatic") // JNA ships no module descriptor; its manifest names it com.sun.jna
module org.epoll4j {
    requires com.sun.jna;

    exports org.epoll4j;
    exports org.epoll4j.net;
}
