//! A telemetry stream's events, sent to the host in batches: the events of a window go out
//! together (tonic writes the items a stream has ready in one go), so that each call's event
//! costs the host's `GrpcStream` process one wake-up per window, not one per event.
//!
//! While a window is open the stream sleeps: the events wait in the hub's channel, and
//! nothing in the worker wakes for them one by one. A channel half full ends the window early.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use snakepit_bridge_runtime::proto;
use tokio::sync::futures::OwnedNotified;
use tokio::sync::oneshot;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::Stream;

use super::TelemetryHub;

/// How long a batch gathers events after its first one. Each write wakes snakepit's
/// `GrpcStream` process in the BEAM; in a real pool of 2 on 2 cores (BENCHMARKS.md, "The
/// telemetry batch window") 50 ms had the higher throughput than 5 ms in 45 of 62 paired runs,
/// a mean of 0.97x the floor worker's against 0.93x, with the same latency. An event's
/// timestamp and duration are taken when it happens: only its arrival in Elixir waits.
pub(crate) const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// The events of one telemetry stream, until the host closes its side or the worker stops
/// (`end`); the open batch still goes out then.
pub(crate) struct TelemetryBatches {
    events: BroadcastStream<proto::TelemetryEvent>,
    end: oneshot::Receiver<()>,
    hub: Arc<TelemetryHub>,
    /// The open batch's window, from its first event.
    window: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The batch's first event, read to open it.
    first: Option<proto::TelemetryEvent>,
    /// The hub's word that its channel is half full.
    half_full: Pin<Box<OwnedNotified>>,
    /// The window is over: the batch is being sent.
    sending: bool,
    /// No more events will be read after the open batch.
    ending: bool,
}

impl TelemetryBatches {
    pub(crate) fn new(
        events: tokio::sync::broadcast::Receiver<proto::TelemetryEvent>,
        end: oneshot::Receiver<()>,
        hub: Arc<TelemetryHub>,
    ) -> Self {
        let half_full = Box::pin(hub.half_full.clone().notified_owned());
        TelemetryBatches {
            events: BroadcastStream::new(events),
            end,
            hub,
            window: None,
            first: None,
            half_full,
            sending: false,
            ending: false,
        }
    }

    /// Whether the open batch's window is over: its time is up, the channel is half full, or
    /// the stream ends.
    fn window_over(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(window) = &mut self.window else {
            return false;
        };
        if window.as_mut().poll(cx).is_ready() || self.ending {
            return true;
        }
        if self.half_full.as_mut().poll(cx).is_ready() {
            self.half_full = Box::pin(self.hub.half_full.clone().notified_owned());
            return true;
        }
        false
    }
}

impl Stream for TelemetryBatches {
    type Item = proto::TelemetryEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if !this.ending && Pin::new(&mut this.end).poll(cx).is_ready() {
                this.ending = true;
            }
            if this.window.is_none() {
                if this.ending {
                    return Poll::Ready(None);
                }
                // No batch open: the next event opens one.
                match Pin::new(&mut this.events).poll_next(cx) {
                    Poll::Ready(Some(Ok(event))) => {
                        this.first = Some(event);
                        this.window = Some(Box::pin(tokio::time::sleep(BATCH_WINDOW)));
                        continue;
                    }
                    Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(missed)))) => {
                        this.hub.note_dropped(missed);
                        continue;
                    }
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => return Poll::Pending,
                }
            }
            if !this.sending {
                if !this.window_over(cx) {
                    return Poll::Pending;
                }
                this.sending = true;
            }
            // The batch: its first event, then every event the channel holds now.
            if let Some(event) = this.first.take() {
                return Poll::Ready(Some(event));
            }
            match Pin::new(&mut this.events).poll_next(cx) {
                Poll::Ready(Some(Ok(event))) => return Poll::Ready(Some(event)),
                Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(missed)))) => {
                    this.hub.note_dropped(missed)
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending if !this.ending && this.hub.queued() > 0 => {
                    // Not empty: tokio's cooperative budget (128 reads a poll) paused the
                    // reads, and the task is woken again at once. The batch goes on.
                    return Poll::Pending;
                }
                Poll::Pending => {
                    // The batch is sent.
                    this.window = None;
                    this.sending = false;
                    if this.ending {
                        return Poll::Ready(None);
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;
    use tokio_stream::StreamExt;

    fn stream() -> (Arc<TelemetryHub>, oneshot::Sender<()>, TelemetryBatches) {
        let hub = Arc::new(TelemetryHub::new());
        let (end, ended) = oneshot::channel();
        let batches = TelemetryBatches::new(hub.subscribe(), ended, hub.clone());
        (hub, end, batches)
    }

    /// One event, its number in the correlation id.
    fn emit(hub: &TelemetryHub, n: usize) {
        let id = n.to_string();
        hub.send("tool.execution.stop", Some(&id), [], []);
    }

    fn ids(events: &[proto::TelemetryEvent]) -> Vec<usize> {
        events
            .iter()
            .map(|event| event.correlation_id.parse().unwrap())
            .collect()
    }

    /// Everything the stream has ready now, without waiting.
    fn ready(batches: &mut TelemetryBatches) -> Vec<proto::TelemetryEvent> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(event)) = Pin::new(&mut *batches).poll_next(&mut cx) {
            out.push(event);
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn events_wait_for_the_window_then_go_out_together_in_order() {
        let (hub, _end, mut batches) = stream();
        for n in 0..3 {
            emit(&hub, n);
        }
        assert!(
            ready(&mut batches).is_empty(),
            "sent before the window is over"
        );
        tokio::time::advance(BATCH_WINDOW / 2).await;
        emit(&hub, 3);
        assert!(
            ready(&mut batches).is_empty(),
            "the window is from the first event"
        );
        tokio::time::advance(BATCH_WINDOW / 2).await;
        assert_eq!(ids(&ready(&mut batches)), [0, 1, 2, 3]);
        // The next event opens a new window.
        emit(&hub, 4);
        assert!(ready(&mut batches).is_empty());
        tokio::time::advance(BATCH_WINDOW).await;
        assert_eq!(ids(&ready(&mut batches)), [4]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_within_one_window_loses_nothing() {
        // Four times the channel's room, sent within one window, the stream polled as its
        // task would be when woken: a window that ran its full time would let the channel
        // overflow.
        let (hub, _end, mut batches) = stream();
        let total = 4 * super::super::BUFFER;
        let mut received = Vec::new();
        for chunk in 0..total / 128 {
            for n in chunk * 128..(chunk + 1) * 128 {
                emit(&hub, n);
            }
            // A fresh poll of the task, as the server's stream gets: tokio's cooperative
            // budget (128 reads a poll) would otherwise hold up the reads of the channel.
            tokio::task::yield_now().await;
            received.extend(ready(&mut batches));
        }
        for _ in 0..total / 128 {
            tokio::task::yield_now().await;
            tokio::time::advance(BATCH_WINDOW).await;
            received.extend(ready(&mut batches));
        }
        let dropped = hub.dropped.load(Ordering::Relaxed);
        assert_eq!((received.len(), dropped), (total, 0), "(received, dropped)");
        assert!(ids(&received).into_iter().eq(0..total), "out of order");
    }

    #[tokio::test(start_paused = true)]
    async fn the_open_batch_still_goes_out_when_the_stream_ends() {
        let (hub, end, mut batches) = stream();
        emit(&hub, 7);
        emit(&hub, 8);
        assert!(ready(&mut batches).is_empty());
        end.send(()).unwrap();
        let sent: Vec<_> = batches.collect().await;
        assert_eq!(ids(&sent), [7, 8]);
    }
}
