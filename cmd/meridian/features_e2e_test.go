package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian/meridian/internal/testkit"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// meridianBinary builds the command once per test run.
func meridianBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "meridian-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "meridian")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var (
	brokerRe = regexp.MustCompile(`embedded Kafka broker at (\S+) `)
	httpRe   = regexp.MustCompile(`HTTP on http://(\S+) `)
)

// startDev runs `meridian dev` with args and returns the broker and HTTP
// addresses it printed; the process is stopped with the test.
func startDev(t *testing.T, args ...string) (broker, httpAddr string) {
	t.Helper()
	cmd := exec.Command(meridianBinary(t), append([]string{"dev", "--kafka-addr", "127.0.0.1:0", "--http", "127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir() // dev writes its analytics under ./meridian-data
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && (broker == "" || httpAddr == "") {
		if m := brokerRe.FindStringSubmatch(sc.Text()); m != nil {
			broker = m[1]
		}
		if m := httpRe.FindStringSubmatch(sc.Text()); m != nil {
			httpAddr = m[1]
		}
	}
	if broker == "" || httpAddr == "" {
		t.Fatal("meridian dev did not print its addresses")
	}
	go io.Copy(io.Discard, stdout)
	return broker, httpAddr
}

type view struct {
	CustomerID string              `json:"customer_id"`
	AsOf       time.Time           `json:"as_of"`
	Features   map[string]*float64 `json:"features"`
	Profile    map[string]any      `json:"profile"`
	Journeys   []any               `json:"journeys"`
}

// TestCustomerViewEndToEnd produces a customer's events with kcat to
// `meridian dev --rate 0` and reads the customer view over HTTP.
func TestCustomerViewEndToEnd(t *testing.T) {
	testkit.RequireTool(t, "kcat")
	broker, httpAddr := startDev(t, "--rate", "0")
	now := time.Now().UTC()
	at := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339Nano) }
	n := 0
	ev := func(typ string, ago time.Duration, extra string) testkit.KV {
		n++
		return testkit.KV{Key: []byte("c-view-1"), Value: []byte(fmt.Sprintf(
			`{"event_id":"v-%d","type":%q,"customer_id":"c-view-1","ts":%q%s}`, n, typ, at(ago), extra))}
	}
	lastCart := 90 * time.Second
	// Within the allowed lateness (10m) of now, and in event-time order, so
	// that no event is late whatever the watermark: the BSS events are the
	// oldest, so they go first and are applied before the clickstream.
	bss := []testkit.KV{
		ev("profile_updated", 9*time.Minute+30*time.Second, `,"attrs":{"plan":"basic","tenure_days":412,"timezone":"Europe/Berlin"}`),
		ev("plan_changed", 9*time.Minute, `,"attrs":{"from":"basic","to":"unlimited-5g","monthly_fee":30}`),
		ev("consent_changed", 8*time.Minute+30*time.Second, `,"attrs":{"channel":"sms","granted":false}`),
		ev("payment_failed", 8*time.Minute, `,"attrs":{"invoice_id":"i-1","amount":30,"reason":"card_declined"}`),
	}
	click := []testkit.KV{
		ev("purchase", 7*time.Minute, `,"session_id":"s-0","attrs":{"order_id":"o-1","value":99}`),
		ev("page_view", 6*time.Minute, `,"session_id":"s-a","attrs":{"url":"/"}`),
		ev("product_view", 4*time.Minute, `,"session_id":"s-b","attrs":{"sku":"SKU-1","price":10}`),
		ev("page_view", 3*time.Minute, `,"session_id":"s-b","attrs":{"url":"/a"}`),
		ev("add_to_cart", 3*time.Minute, `,"session_id":"s-b","attrs":{"sku":"SKU-1","price":10,"qty":2}`),
		ev("page_view", 2*time.Minute, `,"session_id":"s-b","attrs":{"url":"/b"}`),
		ev("add_to_cart", lastCart, `,"session_id":"s-b","attrs":{"sku":"SKU-2","price":5.5}`),
		ev("page_view", time.Minute, `,"session_id":"s-b","attrs":{"url":"/c"}`),
	}
	url := "http://" + httpAddr + "/v1/customers/c-view-1"
	var v view
	fetch := func() bool {
		code, body := httpGet(t, url)
		if code != 200 {
			return false
		}
		v = view{}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("view is not JSON: %v: %s", err, body)
		}
		return true
	}
	has := func(name string, want float64) bool {
		return v.Features[name] != nil && *v.Features[name] == want
	}
	testkit.KcatProduce(t, broker, "bss", bss)
	testkit.WaitFor(t, 30*time.Second, func() bool { return fetch() && has("payment_failures_7d", 1) },
		func() string { return fmt.Sprintf("bss events not applied: %+v", v) })
	testkit.KcatProduce(t, broker, "clickstream", click)
	testkit.WaitFor(t, 30*time.Second, func() bool { return fetch() && has("page_views_5m", 3) && has("purchases_30d", 1) },
		func() string { return fmt.Sprintf("clickstream not applied: %+v", v) })

	want := map[string]float64{
		"page_views_5m": 3, "page_views_1h": 4, "product_views_1h": 1, "searches_1h": 0,
		"add_to_cart_1h": 2, "cart_value_1h": 25.5, "checkout_starts_24h": 0, "purchases_30d": 1,
		"purchase_value_30d": 99, "sessions_24h": 3, "distinct_products_24h": 2,
		"minutes_since_last_add_to_cart": v.AsOf.Sub(now.Add(-lastCart)).Minutes(),
		"minutes_since_last_purchase":    v.AsOf.Sub(now.Add(-7 * time.Minute)).Minutes(),
		"payment_failures_7d":            1, "tickets_opened_30d": 0, "usage_alerts_7d": 0,
	}
	if len(v.Features) != len(want) {
		t.Errorf("view has %d features, want the %d standard ones: %v", len(v.Features), len(want), v.Features)
	}
	for name, w := range want {
		got := v.Features[name]
		if got == nil || math.Abs(*got-w) > 1e-6 {
			t.Errorf("%s = %v, want %v", name, deref(got), w)
		}
	}
	profile := map[string]any{"plan": "unlimited-5g", "tenure_days": 412.0, "timezone": "Europe/Berlin",
		"consent": map[string]any{"email": true, "sms": false, "push": true, "call_center": true}}
	for k, w := range profile {
		if fmt.Sprint(v.Profile[k]) != fmt.Sprint(w) {
			t.Errorf("profile %s = %v, want %v", k, v.Profile[k], w)
		}
	}
	if v.CustomerID != "c-view-1" || v.Journeys == nil {
		t.Errorf("customer_id %q, journeys %v", v.CustomerID, v.Journeys)
	}
	if code, body := httpGet(t, "http://"+httpAddr+"/v1/customers/c-nobody"); code != 404 ||
		!strings.Contains(string(body), `"code":"not_found"`) {
		t.Errorf("unknown customer: %d %s", code, body)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
