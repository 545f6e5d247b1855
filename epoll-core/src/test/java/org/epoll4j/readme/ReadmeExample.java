package org.epoll4j.readme;

// README-BEGIN
import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

public final class ReadmeExample {
    /** Watches any fd you own (socket, pipe, eventfd ...) on a reactor thread until it becomes readable. */
    public static CompletableFuture<Boolean> whenReadable(int fd, Duration timeout) throws Exception {
        Reactor reactor = Reactor.builder().name("readme-reactor").build();
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        try {
            reactor.register(fd, Interest.READ, TriggerMode.LEVEL, (registration, ready) -> {
                result.complete(ready.isReadable());
                registration.cancel();          // stop watching; the fd stays yours
                reactor.close();                // the loop ends after this iteration
            });
            reactor.schedule(timeout, () -> {   // timers and tasks run on the loop thread too
                result.complete(false);
                reactor.close();
            });
        } catch (Exception e) {                 // EpollException names the call and errno, e.g. EBADF
            reactor.close();
            throw e;
        }
        reactor.start();                        // a daemon thread running reactor.run()
        return result;
    }
}
// README-END
