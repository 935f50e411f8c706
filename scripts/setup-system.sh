#!/usr/bin/env bash
# System packages smspec needs beyond Python wheels. Idempotent; safe to rerun.
#   librandomx0                   RandomX (PoST k2pow), loaded through ctypes
#   gcc-riscv64-unknown-elf       builds the RV32EM test programs and templates (Athena)
#   picolibc-riscv64-unknown-elf  C library for those programs
#   pocl-opencl-icd               Debian's pocl (3.1, LLVM 15): a second CPU OpenCL platform beside
#                                 the pip wheel's pocl 3.0. pyopencl's bundled ICD loader reads
#                                 /etc/OpenCL/vendors, so it sees both; the self-check and the
#                                 measurement choose between them (docs/opencl.md).
#   graphviz                      draws the docs' figures (make docs; docs/_ext/figures.py)
#   chromium                      the headless browser of the dashboard's test (tests/node/
#                                 test_dashboard_browser.py, driven by playwright; about a minute to
#                                 install), and of the docs' screenshots
# The PDF edition (make docs-pdf, make docs-screenshots) also needs Debian's LaTeX, librsvg2-bin
# (SVG figures as PDF) and poppler-utils (pdftoppm): about 200 MB to download and several minutes
# to install on a fresh machine, so only with SMSPEC_DOCS_PDF=1 (those targets set it).
set -euo pipefail
need=()
packages=(librandomx0 gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf pocl-opencl-icd graphviz chromium)
if [ "${SMSPEC_DOCS_PDF:-0}" = 1 ]; then
  packages+=(texlive-latex-recommended texlive-fonts-recommended texlive-latex-extra latexmk tex-gyre
             librsvg2-bin poppler-utils)
fi
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: all system packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup-system: missing ${need[*]}; install them as root (apt-get install ${need[*]})." >&2
    echo "setup-system: continuing; tests that need them are skipped with a message." >&2
    exit 0
  fi
else SUDO=""; fi
echo "setup-system: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "setup-system: apt-get update failed; trying the cached lists" >&2
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  echo "setup-system: could not install ${need[*]}; tests that need them are skipped with a message." >&2
fi
