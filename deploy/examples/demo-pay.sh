#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make demo-pay`: igw between openIMIS's payroll and a G2P Connect payment system
# (deploy/examples/payments.yaml, docs/PAYMENTS.md). Starts the openIMIS simulator on
# 127.0.0.1:8000 (its payment-status receiver), the payment system simulator
# (tests/sim/g2p_payments.py) on 127.0.0.1:7420 and igw on 127.0.0.1:7410 (admin 7411), makes
# igw's signing key once, then POSTs a payroll of DEMO_PAY_N benefits (default 20; every 7th
# account ends in 13 and is rejected) and prints where to look. Ctrl-C stops everything.
#   deploy/examples/demo-pay.sh [BUILD_DIR]   (default: build)
set -eu
build=${1:-build}
igw=$build/cli/igw
demo=demo-pay
dir=var/demo-pay
n=${DEMO_PAY_N:-20}
. deploy/examples/demo-lib.sh
[ -s "$dir/igw-signing.pem" ] || openssl genrsa -out "$dir/igw-signing.pem" 2048 2>/dev/null
"$igw" config check deploy/examples/payments.yaml
demo_start ready python3 tests/sim/openimis/server.py --port 8000 --data tests/sim/openimis/sample.jsonl \
    --rate-per-minute 0 --api-token openimis-demo-token

"$igw" serve --config deploy/examples/payments.yaml &
igw_pid=$!
demo_track $igw_pid
sleep 1
demo_start READY python3 tests/sim/g2p_payments.py --port 7420 --base "" --state "$dir/paysim.jsonl" \
    --token igw-to-paysys --callback-token paysys-token --stage-delay-ms 1000 \
    --verify-jwks http://127.0.0.1:7410/.well-known/jwks.json

python3 - "$n" > "$dir/payroll.json" <<'PY'
import json, sys, uuid
n = int(sys.argv[1])
ns = uuid.uuid5(uuid.NAMESPACE_URL, "urn:igw:demo-pay")
ben = []
for i in range(n):
    acct = "2557000%05d" % i if i % 7 else "2557000%03d13" % i
    ben.append({"uuid": str(uuid.uuid5(ns, "b%d" % i)), "code": "BEN-DEMO-%06d" % i,
                "amount": "%d.%02d" % (10 + i * 3, i % 100),
                "individual": {"uuid": str(uuid.uuid5(ns, "i%d" % i)), "first_name": "Given%d" % i,
                               "last_name": "Family%d" % i, "phone": acct,
                               "payment": {"method": "mobile", "provider": "mobile-pymt", "account": acct}}})
print(json.dumps({"event": "payroll.approved", "event_id": str(uuid.uuid5(ns, "event")),
                  "payroll": {"uuid": str(uuid.uuid5(ns, "payroll")), "name": "PAYROLL-DEMO", "currency": "TZS",
                              "benefit_plan": "CASH-01", "payment_date": "2024-05-01"}, "benefits": ben}))
PY
payroll=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["payroll"]["uuid"])' "$dir/payroll.json")
curl -s -H 'Authorization: Bearer openimis-token' -H 'Content-Type: application/json' \
     --data-binary @"$dir/payroll.json" http://127.0.0.1:7410/openimis/payments; echo
cat <<MSG
demo-pay: payroll $payroll ($n benefits) sent to igw; statuses arrive over a few seconds.
  reconciliation: curl -H 'Authorization: Bearer demo-admin-token' http://127.0.0.1:7411/admin/payments/payrolls/$payroll
  CSV:            curl -H 'Authorization: Bearer demo-admin-token' http://127.0.0.1:7411/admin/payments/payrolls/$payroll.csv
  payment system: curl http://127.0.0.1:7420/_stats
  openIMIS:       curl 'http://127.0.0.1:8000/__sim/payment_status?benefits=0'
  resend (nothing new): curl -H 'Authorization: Bearer openimis-token' --data-binary @$dir/payroll.json http://127.0.0.1:7410/openimis/payments
  (Ctrl-C stops everything)
MSG
wait "$igw_pid"
