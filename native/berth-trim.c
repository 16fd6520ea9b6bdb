/*
 * berth-trim.node: one Node-API function for the daemon process itself, trim(), which asks glibc
 * to hand free heap memory back to the kernel (malloc_trim(0)).
 *
 * Why: glibc returns memory from the top of a heap only, and only when a large chunk is freed.
 * Work such as compiling modules on first use leaves free holes below live allocations, so an idle
 * daemon kept 3-6 MB of freed heap resident (RSS 61-65 MB instead of ~58.6). malloc_trim also
 * releases the pages of free chunks inside the heap.
 */
#include <malloc.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_get_boolean(env, malloc_trim(0) != 0, &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
