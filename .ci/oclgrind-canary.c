/* The known-bad kernel of .ci/oclgrind.sh: Oclgrind must report its
 * out-of-bounds write (work-item 15 writes a[16] of a 16-float buffer) and
 * its local-memory race (each work-item reads its neighbour's slot with no
 * barrier), or the Oclgrind step is not checking anything. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

static const char *source =
    "kernel void canary(global float *a, local float *l)\n"
    "{\n"
    "    size_t i = get_local_id(0), n = get_local_size(0);\n"
    "    l[i] = (float)i;\n"
    "    a[get_global_id(0) + 1] = l[(i + 1) % n];\n"
    "}\n";

int main(void)
{
    cl_platform_id platform;
    cl_device_id device;
    cl_int rc = clGetPlatformIDs(1, &platform, NULL);
    if (rc == CL_SUCCESS)
        rc = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    if (rc != CL_SUCCESS) {
        fprintf(stderr, "canary: no OpenCL device (%d)\n", rc);
        return 1;
    }
    cl_context ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &rc);
    cl_command_queue q = clCreateCommandQueue(ctx, device, 0, &rc);
    cl_mem a = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 16 * sizeof(float), NULL, &rc);
    cl_program prog = clCreateProgramWithSource(ctx, 1, &source, NULL, &rc);
    rc = clBuildProgram(prog, 1, &device, "", NULL, NULL);
    if (rc != CL_SUCCESS) {
        fprintf(stderr, "canary: build failed (%d)\n", rc);
        return 1;
    }
    cl_kernel k = clCreateKernel(prog, "canary", &rc);
    clSetKernelArg(k, 0, sizeof a, &a);
    clSetKernelArg(k, 1, 16 * sizeof(float), NULL);
    size_t global = 16, local = 16;
    rc = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL);
    clFinish(q);
    clReleaseKernel(k);
    clReleaseProgram(prog);
    clReleaseMemObject(a);
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    return rc == CL_SUCCESS ? 0 : 1;
}
