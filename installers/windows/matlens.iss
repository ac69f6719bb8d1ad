; Inno Setup 6 script: a per-machine MatLens installer from the PyInstaller bundle (dist\matlens).
; Built by installers\windows\build.ps1 (and .github\workflows\windows-installer.yml):
;   ISCC.exe /DAppVersion=0.1.0 /DSourceDir=..\..\dist\matlens [/DGpuPackDir=..\..\build\gpu-pack] matlens.iss
; With GpuPackDir the installer offers the optional GPU pack (CUDA 13 + cuDNN 9 for NVIDIA GPUs).
; Not tested on the Linux build machine: see README "Install on a lab workstation".

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\matlens"
#endif
#define AppExe "matlens-gui.exe"
#define CliExe "matlens.exe"

[Setup]
AppId={{485ED383-422C-4901-B6E8-E03E9A90BE87}
AppName=MatLens
AppVersion={#AppVersion}
AppVerName=MatLens {#AppVersion}
AppPublisher=MatLens
DefaultDirName={autopf}\MatLens
DefaultGroupName=MatLens
DisableProgramGroupPage=yes
; Per-machine: every user of the microscope PC gets it; needs an administrator once.
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
SetupIconFile=..\..\resources\icons\matlens.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName=MatLens {#AppVersion}
OutputDir=..\..\dist
#ifdef GpuPackDir
OutputBaseFilename=MatLens-{#AppVersion}-windows-x64-gpu-setup
#else
OutputBaseFilename=MatLens-{#AppVersion}-windows-x64-setup
#endif
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "assoc"; Description: "Open .cif, .dm3, .dm4 and .emd files with MatLens"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

#ifdef GpuPackDir
[Types]
Name: "full"; Description: "MatLens with GPU support (NVIDIA driver 580 or newer)"
Name: "cpu"; Description: "MatLens for the CPU only"

[Components]
Name: "app"; Description: "MatLens"; Types: full cpu; Flags: fixed
Name: "gpu"; Description: "GPU pack: CUDA 13 and cuDNN 9 for NVIDIA GPUs (about 2 GB)"; Types: full
#endif

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
#ifdef GpuPackDir
Source: "{#GpuPackDir}\*"; DestDir: "{app}"; Components: gpu; Flags: ignoreversion recursesubdirs createallsubdirs
#endif

[Icons]
Name: "{autoprograms}\MatLens"; Filename: "{app}\{#AppExe}"; Comment: "Materials workbench (offline)"
Name: "{autoprograms}\MatLens doctor"; Filename: "{cmd}"; Parameters: "/k ""{app}\{#CliExe}"" doctor"; Comment: "Check the models and whether the GPU is used"
Name: "{autodesktop}\MatLens"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; File associations (HKA = HKLM for this per-machine install): a ProgID per type, offered in
; "Open with" and made the default for the type; removed again by the uninstaller.
Root: HKA; Subkey: "Software\Classes\.cif\OpenWithProgids"; ValueType: string; ValueName: "MatLens.cif"; ValueData: ""; Flags: uninsdeletevalue; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.cif"; ValueType: string; ValueName: ""; ValueData: "Crystallographic Information File"; Flags: uninsdeletekey; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.cif\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.cif\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: assoc

Root: HKA; Subkey: "Software\Classes\.dm3\OpenWithProgids"; ValueType: string; ValueName: "MatLens.dm3"; ValueData: ""; Flags: uninsdeletevalue; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.dm3"; ValueType: string; ValueName: ""; ValueData: "Gatan DigitalMicrograph 3 image"; Flags: uninsdeletekey; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.dm3\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.dm3\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: assoc

Root: HKA; Subkey: "Software\Classes\.dm4\OpenWithProgids"; ValueType: string; ValueName: "MatLens.dm4"; ValueData: ""; Flags: uninsdeletevalue; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.dm4"; ValueType: string; ValueName: ""; ValueData: "Gatan DigitalMicrograph 4 image"; Flags: uninsdeletekey; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.dm4\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.dm4\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: assoc

Root: HKA; Subkey: "Software\Classes\.emd\OpenWithProgids"; ValueType: string; ValueName: "MatLens.emd"; ValueData: ""; Flags: uninsdeletevalue; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.emd"; ValueType: string; ValueName: ""; ValueData: "Electron Microscopy Dataset"; Flags: uninsdeletekey; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.emd\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: assoc
Root: HKA; Subkey: "Software\Classes\MatLens.emd\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: assoc

Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "MatLens"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".cif"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".dm3"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".dm4"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".emd"; ValueData: ""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,MatLens}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Python byte-code caches written next to the app; user data in %LOCALAPPDATA%\MatLens is kept.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
