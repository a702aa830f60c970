/*  gpu_gemm (row-major, both transpose flags, float32 and float64, several
    shapes incl. non-square ones) matches a naive triple loop in float64 on
    random non-zero inputs, within relative error bounds; gpu_gemm_sum
    matches the sum of products.  Runs on the backend gpu_gemm_new picks:
    OpenBLAS here, cuBLAS where there is a device (with
    DCPOOL_TEST_GEMM_GPU=1 it insists on the GPU and exits 77 without one).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

static int s_failures;

static double
s_rand (unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    double x = ((*state >> 8) & 0xffff) / 65536.0;     /* [0, 1) */
    return (x - 0.5) * 2.0 + (x < 0.5 ? -0.01 : 0.01); /* never 0 */
}

/* C = alpha op(A) op(B) + beta C in double, row-major. */
static void
s_naive (char ta, char tb, int m, int n, int k, double alpha, const double *a, int lda,
         const double *b, int ldb, double beta, double *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double x = ta == 'N' ? a[i * lda + p] : a[p * lda + i];
                double y = tb == 'N' ? b[p * ldb + j] : b[j * ldb + p];
                s += x * y;
            }
            c[i * ldc + j] = alpha * s + beta * c[i * ldc + j];
        }
}

static void
s_case (gpu_gemm_t *g, gpu_dtype_t dt, char ta, char tb, int m, int n, int k)
{
    unsigned seed = (unsigned)(m * 7919 + n * 131 + k * 17 + ta + 3 * tb + dt);
    int arows = ta == 'N' ? m : k, acols = ta == 'N' ? k : m;
    int brows = tb == 'N' ? k : n, bcols = tb == 'N' ? n : k;
    double *a = malloc (sizeof (double) * arows * acols);
    double *b = malloc (sizeof (double) * brows * bcols);
    double *c = malloc (sizeof (double) * m * n),
           *want = malloc (sizeof (double) * m * n);
    float *af = malloc (sizeof (float) * arows * acols),
          *bf = malloc (sizeof (float) * brows * bcols);
    float *cf = malloc (sizeof (float) * m * n);
    for (int i = 0; i < arows * acols; i++)
        af[i] = (float)(a[i] = s_rand (&seed));
    for (int i = 0; i < brows * bcols; i++)
        bf[i] = (float)(b[i] = s_rand (&seed));
    for (int i = 0; i < m * n; i++)
        cf[i] = (float)(c[i] = want[i] = s_rand (&seed));
    double alpha = 1.5, beta = -0.5;
    if (dt == GPU_FLOAT32) /* the same inputs as the float32 run sees */
        for (int i = 0; i < arows * acols; i++)
            a[i] = af[i];
    if (dt == GPU_FLOAT32)
        for (int i = 0; i < brows * bcols; i++)
            b[i] = bf[i];
    if (dt == GPU_FLOAT32)
        for (int i = 0; i < m * n; i++)
            want[i] = cf[i];
    s_naive (ta, tb, m, n, k, alpha, a, acols, b, bcols, beta, want, n);
    int rc = dt == GPU_FLOAT64 ? gpu_gemm (g, ta, tb, m, n, k, alpha, a, acols, b, bcols,
                                           beta, c, n, dt)
                               : gpu_gemm (g, ta, tb, m, n, k, alpha, af, acols, bf,
                                           bcols, beta, cf, n, dt);
    double worst = 0, scale = 0;
    for (int i = 0; i < m * n; i++) {
        double got = dt == GPU_FLOAT64 ? c[i] : cf[i];
        double err = fabs (got - want[i]);
        worst = err > worst ? err : worst;
        scale = fabs (want[i]) > scale ? fabs (want[i]) : scale;
    }
    /* Error grows like sqrt(k) * eps * |terms|; terms are O(1). */
    double eps = dt == GPU_FLOAT64 ? 1e-16 : 6e-8;
    double bound = 16 * eps * (k + 1) * (scale > 1 ? scale : 1);
    bool ok = rc == 0 && worst <= bound;
    printf ("%s %-8s %c%c %4dx%4dx%4d  max abs err %.2e  bound %.2e  %s\n",
            ok ? "ok  " : "FAIL", dt == GPU_FLOAT64 ? "float64" : "float32", ta, tb, m, n,
            k, worst, bound, rc ? gpu_gemm_error (g) : "");
    s_failures += !ok;
    free (a), free (b), free (c), free (want), free (af), free (bf), free (cf);
}

/* gpu_gemm_sum of 3 products against 3 naive ones. */
static void
s_sum_case (gpu_gemm_t *g)
{
    enum { M = 70, N = 45, K = 33 };
    unsigned seed = 99;
    double a[3][M * K], b[3][K * N], c[M * N], want[M * N];
    memset (want, 0, sizeof want);
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < M * K; i++)
            a[t][i] = s_rand (&seed);
        for (int i = 0; i < K * N; i++)
            b[t][i] = s_rand (&seed);
        s_naive ('N', 'N', M, N, K, 2.0, a[t], K, b[t], N, 1.0, want, N);
    }
    const void *as[] = { a[0], a[1], a[2] }, *bs[] = { b[0], b[1], b[2] };
    int ks[] = { K, K, K }, ldas[] = { K, K, K }, ldbs[] = { N, N, N };
    int rc = gpu_gemm_sum (g, 'N', 'N', M, N, 3, ks, as, ldas, bs, ldbs, 2.0, c, N,
                           GPU_FLOAT64);
    double worst = 0;
    for (int i = 0; i < M * N; i++)
        worst = fmax (worst, fabs (c[i] - want[i]));
    bool ok = rc == 0 && worst < 1e-12;
    printf ("%s gemm_sum of 3 products: max abs err %.2e\n", ok ? "ok  " : "FAIL", worst);
    s_failures += !ok;
}

int
main (void)
{
    const char *want_gpu = getenv ("DCPOOL_TEST_GEMM_GPU");
    char reason[512] = "";
    gpu_gemm_t *g = gpu_gemm_new (true, reason, sizeof reason);
    if (!g)
        return 1;
    printf ("backend: %s%s%s (cuBLAS path built: %s)\n", gpu_gemm_backend (g),
            *reason ? ", because " : "", reason,
            gpu_gemm_built_with_cuda () ? "yes" : "no");
    if (want_gpu && *want_gpu == '1' && strcmp (gpu_gemm_backend (g), "cublas") != 0) {
        printf ("no GPU: skipped\n");
        gpu_gemm_destroy (&g);
        return 77;
    }
    static const int shapes[][3]
        = { { 1, 1, 1 },     { 7, 5, 3 },       { 64, 64, 64 }, { 100, 37, 65 },
            { 33, 129, 17 }, { 200, 150, 250 }, { 1, 300, 2 },  { 257, 1, 130 } };
    const char flags[] = "NT";
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int dt = GPU_FLOAT32; dt <= GPU_FLOAT64; dt++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    s_case (g, dt, flags[ta], flags[tb], shapes[s][0], shapes[s][1],
                            shapes[s][2]);
    s_sum_case (g);
    /* Bad arguments fail, never crash. */
    double x = 1;
    bool refused
        = gpu_gemm (g, 'X', 'N', 1, 1, 1, 1, &x, 1, &x, 1, 0, &x, 1, GPU_FLOAT64)
          && gpu_gemm (g, 'N', 'N', 2, 2, 2, 1, &x, 1, &x, 1, 0, &x, 1, GPU_FLOAT64)
          && gpu_gemm (g, 'N', 'N', 1, 1, 1, 1, &x, 1, &x, 1, 0, &x, 1, 7);
    printf ("%s bad arguments refused\n", refused ? "ok  " : "FAIL");
    s_failures += !refused;
    gpu_gemm_destroy (&g);
    printf ("%d failure(s)\n", s_failures);
    return s_failures ? 1 : 0;
}
