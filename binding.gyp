# blackbox.node: the kernel layer (seccomp-bpf, Landlock, all-thread broadcast).
# One target, node-addon-api with Node-API version 8 (Node >= 12.22 / 14.17 / 15.12 / 16):
# the binary is ABI-stable across Node versions, so prebuildify --napi needs one per platform.
# C++ exceptions are disabled (NAPI_DISABLE_CPP_EXCEPTIONS): errors are thrown as pending JS
# exceptions; no C++ exception may ever unwind through the signal handler anyway.
{
  'targets': [
    {
      'target_name': 'blackbox',
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_DISABLE_CPP_EXCEPTIONS',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
      ],
      'cflags_cc!': ['-std=gnu++17'],
      'cflags_cc': ['-std=c++17', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-missing-field-initializers'],
      'configurations': {
        'Release': {
          'cflags!': ['-O3'],
          'cflags_cc!': ['-O3'],
          'cflags': ['-O2'],
        },
      },
      'conditions': [
        ['OS=="linux"', {
          'sources': [
            'native/addon.cc',
            'native/util.cc',
            'native/procfs.cc',
            'native/seccomp.cc',
            'native/landlock.cc',
            'native/threads.cc',
            'native/status.cc',
            'native/supervise.cc',
          ],
        }, {
          # Other platforms: an empty module, so `npm install` succeeds everywhere and the
          # JS layer can run; src/ never calls kernel exports off Linux.
          'sources': ['native/stub.cc'],
        }],
      ],
    },
  ],
  'conditions': [
    ['OS=="linux"', {
      'targets': [
        {
          # The connect supervisor (native/supervisor/sup.h): a separate executable, started by
          # lockdown() before the filter, so its own on-behalf syscalls are never trapped.
          # libstdc++ and libgcc are linked in; only glibc is loaded at run time (getaddrinfo
          # needs its NSS modules, which a fully static binary could not load safely).
          'target_name': 'blackbox-supervisor',
          'type': 'executable',
          'sources': [
            'native/supervisor/main.cc',
            'native/supervisor/handle.cc',
            'native/supervisor/rules.cc',
            'native/supervisor/launch.cc',
          ],
          'cflags_cc!': ['-std=gnu++17', '-fno-exceptions'],
          'cflags_cc': ['-std=c++17', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-missing-field-initializers', '-pthread'],
          'ldflags': ['-static-libstdc++', '-static-libgcc', '-pthread'],
        },
      ],
    }],
    ['OS=="linux"', {
      'targets': [
        {
          # native/hook/blackbox-hook.c: an LD_PRELOAD library for non-Node commands under
          # `blackbox run`; it names kernel denials on stderr and never changes a call.
          # Plain C, linked against libc/libdl only (no C++ runtime: it is loaded into
          # arbitrary programs). Output: build/Release/blackbox-hook.so.
          'target_name': 'blackbox-hook',
          'type': 'loadable_module',
          'product_prefix': '',
          # node-gyp's addon.gypi sets product_extension 'node' for every loadable_module in
          # its target_conditions; ours are evaluated after it, so the name stays .so.
          'target_conditions': [['_type=="loadable_module"', {'product_extension': 'so'}]],
          'sources': ['native/hook/blackbox-hook.c'],
          'cflags!': ['-O3'],
          'cflags': ['-std=gnu11', '-O2', '-fPIC', '-Wall', '-Wextra', '-Wno-unused-parameter'],
          'ldflags': ['-Wl,--as-needed', '-nodefaultlibs'],
          'libraries': ['-ldl', '-lc'],
        },
      ],
    }],
  ],
}
