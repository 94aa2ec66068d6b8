package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/metrics"
	"github.com/meridian/meridian/sinks"
)

// Options are the collaborators a Pipeline is given rather than creates.
type Options struct {
	Logger   *slog.Logger
	Registry *metrics.Registry
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// Brokers overrides the config's brokers (the embedded broker).
	Brokers []string
	// Advertise is the HTTP address other instances forward requests for
	// this instance's customers to; default: http.advertise or http.addr.
	Advertise string
	// Env is the compiled configuration the tasks share; nil compiles cfg
	// with NewEnv(cfg, Files).
	Env *Env
	// Files holds the model and reference files the config names, when
	// they are not on disk beside it (the embedded example's).
	Files fs.FS
	// Analytics receives the analytics rows of every task; nil records
	// none.
	Analytics *sinks.Sink
}

// Pipeline consumes the input topics and runs one task per partition number.
type Pipeline struct {
	cfg    *config.Config
	log    *slog.Logger
	reg    *metrics.Registry
	now    func() time.Time
	env    *Env
	ownEnv bool
	cl     *kgo.Client
	// sess is the transactional session in exactly_once mode (cl is its
	// client), nil in at_least_once.
	sess *kgo.GroupTransactSession
	// kopts are the shared client options (brokers, TLS, SASL), for the
	// extra clients that restore changelog partitions.
	kopts []kgo.Opt
	// runCtx ends when Run returns or a graceful stop runs out of time.
	runCtx    context.Context
	runCancel context.CancelFunc
	// changelogReady is closed once the changelog topic exists: the client
	// joins the group as soon as it is created, so tasks can be assigned
	// before Run has checked it.
	changelogReady chan struct{}
	// partitions is the input topics' partition count, once known; owners
	// caches which instance owns which partition.
	partitions atomic.Int32
	owners     owners
	advertise  string
	started    time.Time
	analytics  *sinks.Sink
	m          pipelineMetrics
	learn      func(partition int32, tally []byte) error

	mu    sync.Mutex
	tasks map[int32]*task
	owned map[int32]map[string]bool // partition -> input topics assigned

	ready    atomic.Bool
	failOnce sync.Once
	failed   chan struct{}
	failErr  error
	stopping atomic.Bool
	// stopped and heldAtStop keep the customer count of a stopped pipeline.
	stopped    atomic.Bool
	heldAtStop atomic.Uint64
	// produceCtx is canceled only when a graceful stop runs out of time.
	produceCtx    context.Context
	produceCancel context.CancelFunc
}

type pipelineMetrics struct {
	events, actions, deadLetters, batches, produceErrors *metrics.Counter
	late, evicted, checkpointed, aborted                 *metrics.Counter
	ignoredState, badTallies                             *metrics.Counter
}

func newPipelineMetrics(reg *metrics.Registry) pipelineMetrics {
	return pipelineMetrics{
		events:        reg.Counter("meridian_events_total", "Input records processed (including dead letters)."),
		actions:       reg.Counter("meridian_actions_total", "Actions produced to the actions topic."),
		deadLetters:   reg.Counter("meridian_dead_letters_total", "Records that broke the events contract, produced to the dead-letter topic."),
		batches:       reg.Counter("meridian_batches_total", "Fetched batches processed by tasks."),
		produceErrors: reg.Counter("meridian_produce_errors_total", "Batches whose actions or dead letters could not be produced."),
		late:          reg.Counter("meridian_late_events_total", "Events further behind the watermark than the allowed lateness: counted, features unchanged."),
		evicted:       reg.Counter("meridian_evicted_customers_total", "Customers dropped after being idle longer than the longest window plus the allowed lateness."),
		aborted:       reg.Counter("meridian_transactions_aborted_total", "Transactions aborted (exactly_once), after which tasks restored from the changelog."),
		checkpointed:  reg.Counter("meridian_checkpointed_customers_total", "Customer states (and tombstones) written to the changelog."),
		badTallies:    reg.Counter("meridian_learning_records_ignored_total", "Records of the learning topic that could not be decoded (written by an incompatible version)."),
		ignoredState:  reg.Counter("meridian_ignored_state_records_total", "Changelog records of a state section this configuration does not keep (e.g. journeys removed), skipped at restore."),
	}
}

// Stats are the pipeline's running totals.
type Stats struct {
	Events, Actions, DeadLetters uint64
	// Aborted counts aborted transactions (exactly_once).
	Aborted uint64
	// Customers is how many customers the instance's tasks hold.
	Customers uint64
}

// New validates the configuration and creates the Kafka client; nothing is
// consumed until Run.
func New(cfg *config.Config, o Options) (*Pipeline, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = metrics.NewRegistry()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	env, ownEnv := o.Env, false
	if env == nil {
		var err error
		if env, err = NewEnv(cfg, o.Files); err != nil {
			return nil, err
		}
		ownEnv = true
	}
	p := &Pipeline{cfg: cfg, log: o.Logger, reg: o.Registry, now: o.Now, env: env, ownEnv: ownEnv,
		tasks: make(map[int32]*task), owned: make(map[int32]map[string]bool),
		failed: make(chan struct{}), changelogReady: make(chan struct{})}
	p.produceCtx, p.produceCancel = context.WithCancel(context.Background())
	p.runCtx, p.runCancel = context.WithCancel(context.Background())
	p.m = newPipelineMetrics(p.reg)
	p.learn = env.Learner.Publish
	p.started = o.Now()
	p.analytics = o.Analytics
	p.reg.GaugeFunc("meridian_customers", "Customers with state in this instance's tasks.", func() float64 {
		return float64(p.customers())
	})
	p.reg.GaugeFunc("meridian_tasks", "Tasks running (assigned partition numbers).", func() float64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return float64(len(p.tasks))
	})
	opts, err := KafkaOpts(cfg, o.Brokers...)
	if err != nil {
		return nil, err
	}
	p.kopts = opts
	advertise := o.Advertise
	if advertise == "" {
		advertise = cmp.Or(cfg.HTTP.Advertise, cfg.HTTP.Addr)
	}
	p.advertise = advertise
	opts = append(append([]kgo.Opt{}, opts...),
		kgo.ClientID(cfg.ClientID+advertiseSep+advertise),
		kgo.ConsumerGroup(cfg.Group),
		kgo.SessionTimeout(cfg.Pipeline.SessionTimeout),
		kgo.RebalanceTimeout(cfg.Pipeline.RebalanceTimeout),
		kgo.HeartbeatInterval(cfg.Pipeline.SessionTimeout/4),
		kgo.ConsumeTopics(cfg.Topics.Inputs...),
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.BlockRebalanceOnPoll(),
		// Offsets are committed only after a checkpoint made the state that
		// includes them durable.
		kgo.DisableAutoCommit(),
		kgo.RecordPartitioner(partitioner(cfg.Topics.Changelog, cfg.Topics.Learning)),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.ProducerLinger(0),
		kgo.OnPartitionsAssigned(p.assigned),
		kgo.OnPartitionsRevoked(p.revoked),
		kgo.OnPartitionsLost(p.lost),
	)
	if err := p.newClient(opts); err != nil {
		return nil, fmt.Errorf("cannot create Kafka client: %w", err)
	}
	return p, nil
}

// Ready reports whether the instance should receive traffic: it reached the
// brokers, every task restored its state from the changelog, and no task is
// more than state.ready_lag input records behind.
func (p *Pipeline) Ready() bool {
	if !p.ready.Load() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	lag := int64(0)
	for _, t := range p.tasks {
		if !t.ready.Load() {
			return false
		}
		lag += t.lag.Load()
	}
	return lag <= p.cfg.State.ReadyLag
}

func (p *Pipeline) eos() bool { return p.cfg.State.Delivery == config.ExactlyOnce }

// newClient creates the group client; in exactly_once mode, a transactional
// session whose transactions hold actions, changelog records and offsets.
func (p *Pipeline) newClient(opts []kgo.Opt) error {
	if !p.eos() {
		var err error
		p.cl, err = kgo.NewClient(opts...)
		return err
	}
	opts = append(opts,
		kgo.TransactionalID(p.transactionalID()),
		// A crashed instance's open transaction blocks its partitions'
		// committed reads until it times out: no longer than a session.
		kgo.TransactionTimeout(p.cfg.Pipeline.SessionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
	)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return err
	}
	p.sess, p.cl = sess, sess.Client()
	return nil
}

// transactionalID names this instance's transactions: the group and the
// advertised HTTP address (host:port, unique per live instance). It is
// stable across restarts of an instance on the same address, so a restarted
// instance fences and aborts its crashed predecessor's open transaction at
// once; on another address the predecessor's transaction times out instead
// (correct either way, thanks to KIP-447, only slower to recover).
func (p *Pipeline) transactionalID() string {
	addr := p.advertise
	if host, port, err := net.SplitHostPort(addr); err != nil || port == "0" || host == "" || host == "0.0.0.0" || host == "::" {
		h, _ := os.Hostname()
		addr = fmt.Sprintf("%s-pid%d-%d", h, os.Getpid(), time.Now().UnixNano())
	}
	return p.cfg.Group + "-" + addr
}

// Partitions returns the partition numbers this instance's tasks own, sorted.
func (p *Pipeline) Partitions() []int32 {
	p.mu.Lock()
	out := make([]int32, 0, len(p.tasks))
	for part := range p.tasks {
		out = append(out, part)
	}
	p.mu.Unlock()
	slices.Sort(out)
	return out
}

// Stats returns the running totals.
func (p *Pipeline) Stats() Stats {
	return Stats{Events: p.m.events.Load(), Actions: p.m.actions.Load(), DeadLetters: p.m.deadLetters.Load(),
		Aborted: p.m.aborted.Load(), Customers: p.customers()}
}

// Run consumes until ctx is canceled or producing fails. On cancellation
// it stops polling, lets every task finish the batches it holds, commits
// their offsets and leaves the group; it returns nil if that completed
// within the configured shutdown timeout.
func (p *Pipeline) Run(ctx context.Context) error {
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := p.cl.Ping(pingCtx)
	cancel()
	if err != nil {
		p.cl.Close()
		if ctx.Err() != nil {
			return nil // stopped before it started: nothing consumed, nothing to commit
		}
		return fmt.Errorf("cannot reach Kafka brokers: %w", err)
	}
	if err := p.ensureChangelog(ctx); err != nil {
		p.runCancel()
		p.cl.Close()
		return err
	}
	close(p.changelogReady)
	go p.followLearning(p.runCtx)
	if p.eos() {
		if err := p.sess.Begin(); err != nil {
			p.cl.Close()
			return fmt.Errorf("cannot begin a transaction: %w", err)
		}
	}
	p.ready.Store(true)
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go func() {
		select {
		case <-p.failed:
			stopPoll()
		case <-pollCtx.Done():
		}
	}()
	p.poll(pollCtx)
	p.ready.Store(false)
	return errors.Join(p.failErr, p.shutdown())
}

func (p *Pipeline) poll(ctx context.Context) {
	nextCheckpoint := p.now().Add(p.cfg.State.CheckpointInterval)
	every := tickEvery(p.cfg.EventTime.IdleAfter)
	nextTick := p.now().Add(every)
	for {
		// Poll until records arrive, the next tick or the next checkpoint.
		pctx, cancel := context.WithDeadline(ctx, minTime(nextCheckpoint, nextTick))
		fetches := p.cl.PollRecords(pctx, p.cfg.Pipeline.MaxBatch)
		cancel()
		if fetches.IsClientClosed() {
			p.cl.AllowRebalance()
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				p.log.Warn("fetch error", "topic", topic, "partition", partition, "err", err)
			}
		})
		// Records a poll returned count as consumed: the final checkpoint's
		// commit covers them. So they are handed to the tasks even when the
		// stop came during the poll; dropping them here lost them for good.
		p.dispatch(fetches)
		if ctx.Err() != nil {
			p.cl.AllowRebalance()
			return
		}
		if now := p.now(); !now.Before(nextTick) {
			p.tick()
			nextTick = now.Add(every)
		}
		if !p.now().Before(nextCheckpoint) {
			if err := p.checkpointAndCommit(ctx); err != nil {
				p.fail(err)
			}
			nextCheckpoint = p.now().Add(p.cfg.State.CheckpointInterval)
		}
		p.cl.AllowRebalance()
	}
}

func (p *Pipeline) dispatch(fetches kgo.Fetches) {
	fetches.EachPartition(func(ft kgo.FetchTopicPartition) {
		if len(ft.Records) == 0 {
			return
		}
		p.mu.Lock()
		t := p.tasks[ft.Partition]
		p.mu.Unlock()
		if t == nil {
			p.log.Error("BUG: records for a partition with no task", "topic", ft.Topic, "partition", ft.Partition)
			return
		}
		t.in <- fetched{records: ft.Records, topic: ft.Topic, highWatermark: ft.HighWatermark}
	})
}

// tick asks every task to advance an idle partition's watermark and fire
// the timers due. Ticks go through the tasks' queues, like batches and
// checkpoint barriers, so what a timer produces is ordered with them (and,
// under exactly_once, inside the transaction its state is checkpointed
// in). A task whose queue is full is busy with batches and skips the tick.
func (p *Pipeline) tick() {
	for _, t := range p.taskList() {
		select {
		case t.in <- fetched{tick: true}:
		default:
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// checkpointAndCommit has every task write its changed state and offsets
// to the changelog (after the batches it already holds), and then commits
// the consumed offsets: a crash replays from there onto that state.
func (p *Pipeline) checkpointAndCommit(ctx context.Context) error {
	tasks := p.taskList()
	replies := make([]chan error, len(tasks))
	for i, t := range tasks {
		replies[i] = make(chan error, 1)
		t.in <- fetched{checkpoint: replies[i]}
	}
	var errs []error
	for _, r := range replies {
		errs = append(errs, <-r)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if p.eos() {
		return p.endTransaction(ctx)
	}
	if err := p.cl.CommitUncommittedOffsets(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("cannot commit offsets after a checkpoint: %w", err)
	}
	return nil
}

// endTransaction commits the transaction holding the actions and changelog
// records since the last one with the consumed offsets, and begins the
// next. If it aborts (a rebalance came first), the consumer is back at the
// committed offsets, so every task is recreated from the committed
// changelog and replays: the aborted decisions are made again, with the
// same ids, in a transaction that commits.
func (p *Pipeline) endTransaction(ctx context.Context) error {
	committed, err := p.sess.End(context.WithoutCancel(ctx), kgo.TryCommit)
	if err != nil {
		return fmt.Errorf("cannot end the transaction: %w", err)
	}
	if !committed {
		p.m.aborted.Inc()
		p.log.Info("transaction aborted (a rebalance came first); restoring tasks from the changelog")
		p.restartTasks()
	}
	if p.stopping.Load() {
		return nil
	}
	if err := p.sess.Begin(); err != nil {
		return fmt.Errorf("cannot begin a transaction: %w", err)
	}
	return nil
}

// restartTasks replaces every task by a fresh one that restores from the
// changelog.
func (p *Pipeline) restartTasks() {
	parts := p.Partitions()
	p.stopTasks(parts)
	p.startOwned(parts)
}

// startOwned starts a task, which restores first, for each of parts that is
// assigned on some input topic and has none.
func (p *Pipeline) startOwned(parts []int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, part := range parts {
		if len(p.owned[part]) > 0 && p.tasks[part] == nil {
			t := newTask(p, part)
			p.tasks[part] = t
			go t.run()
		}
	}
}

// taskList is a snapshot of the running tasks.
func (p *Pipeline) taskList() []*task {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*task, 0, len(p.tasks))
	for _, t := range p.tasks {
		out = append(out, t)
	}
	return out
}

// shutdown drains the tasks and commits; it is bounded by the configured
// shutdown timeout, after which in-flight produces are abandoned (their
// batches are not committed and will be replayed).
func (p *Pipeline) shutdown() error {
	p.stopping.Store(true)
	timer := time.AfterFunc(p.cfg.Pipeline.ShutdownTimeout, func() { p.produceCancel(); p.runCancel() })
	defer timer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Pipeline.ShutdownTimeout)
	defer cancel()
	var err error
	if p.failErr == nil {
		err = p.checkpointAndCommit(ctx)
	}
	p.heldAtStop.Store(p.customers())
	p.stopped.Store(true)
	p.stopTasks(p.Partitions())
	p.runCancel()
	p.cl.Close()
	if err != nil {
		return fmt.Errorf("cannot checkpoint at shutdown: %w", err)
	}
	return nil
}

func (p *Pipeline) produceContext() (context.Context, context.CancelFunc) {
	return context.WithCancel(p.produceCtx)
}

// fail records the first fatal error and stops polling.
func (p *Pipeline) fail(err error) {
	if p.stopping.Load() {
		return
	}
	p.failOnce.Do(func() {
		p.failErr = fmt.Errorf("pipeline stopped: %w", err)
		close(p.failed)
	})
}

func (p *Pipeline) assigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	var parts []int32
	p.mu.Lock()
	for topic, ps := range assigned {
		for _, part := range ps {
			if p.owned[part] == nil {
				p.owned[part] = make(map[string]bool)
			}
			p.owned[part][topic] = true
			parts = append(parts, part)
		}
	}
	p.mu.Unlock()
	p.startOwned(parts)
	p.log.Info("partitions assigned", "partitions", sortedKeys(assigned))
}

// revoked checkpoints every task (after the batches it holds) and commits,
// then stops the tasks of revoked partitions and restarts a task whose
// partition number is still assigned on another input topic.
func (p *Pipeline) revoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	// In exactly_once mode the session aborts the open transaction on a
	// revocation: the next owner restores the last committed checkpoint.
	if len(revoked) > 0 && !p.stopping.Load() && !p.eos() {
		if err := p.checkpointAndCommit(ctx); err != nil {
			p.log.Warn("cannot checkpoint on revocation; the next owner restores the last checkpoint and replays", "err", err)
		}
	}
	p.release(revoked)
}

// lost is like revoked, but the partitions already belong to someone else,
// so nothing is committed.
func (p *Pipeline) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	p.release(lost)
}

func (p *Pipeline) release(parts map[string][]int32) {
	var stop []int32
	p.mu.Lock()
	for topic, ps := range parts {
		for _, part := range ps {
			delete(p.owned[part], topic)
			if p.tasks[part] != nil {
				stop = append(stop, part)
			}
		}
	}
	p.mu.Unlock()
	p.stopTasks(stop)
	p.startOwned(stop)
	if len(parts) > 0 {
		p.log.Info("partitions revoked", "partitions", sortedKeys(parts))
	}
}

// stopTasks closes the tasks' inputs and waits until each has finished
// the batches it held.
func (p *Pipeline) stopTasks(parts []int32) {
	var stopped []*task
	p.mu.Lock()
	for _, part := range parts {
		if t := p.tasks[part]; t != nil {
			delete(p.tasks, part)
			close(t.in)
			stopped = append(stopped, t)
		}
	}
	p.mu.Unlock()
	for _, t := range stopped {
		<-t.done
	}
}

func sortedKeys(m map[string][]int32) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s%v", k, v))
	}
	sort.Strings(out)
	return out
}

// customers is how many customers the tasks hold; after a stop, how many
// they held when it began.
func (p *Pipeline) customers() uint64 {
	if p.stopped.Load() {
		return p.heldAtStop.Load()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := int64(0)
	for _, t := range p.tasks {
		n += t.customers.Load()
	}
	return uint64(n)
}
